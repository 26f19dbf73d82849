"""Finding the picture inside a border: solid or blurred bands and letterboxing.

A border added around a picture moves and shrinks it inside the frame PDQ samples, and PDQ is
fragile to that: on the natural corpus a black border of 5% on each side already puts the median
copy 94 bits away. Trimming the border before hashing gives back (nearly) the picture itself.

``content_box`` scans from each edge inwards and drops every row (column) that is *flat*: whose
mean absolute difference between neighbouring pixels along it is below a fraction of that of the
picture's middle rows (columns), and below ``FLAT_LEVEL`` grey levels at most. ``content_boxes``
tries a strict and a loose fraction: the strict one places a solid band's edge exactly, the loose
one also finds a blurred fill behind a smooth picture (whose own rows are not much busier). A solid
band has almost no such differences (JPEG noise only), a blurred copy of the picture stretched
behind it (the usual "blurred fill") has a small fraction of the picture's. The scan stops at
the first row that is not flat, so nothing inside the picture is ever looked at.

The trade-off: a picture whose own edge rows are flat (a clear sky, a plain wall) loses them
too. Trimming therefore never replaces the hash of the untrimmed picture: it adds a probe (see
``openmnr.core.robust.probes``), and a bank image with a flat edge still matches untrimmed.
A border made of another picture's content is not flat and is not found here.
"""

from typing import NamedTuple

import numpy as np

#: A row is flat when its activity is below this fraction of the middle rows' median activity
#: (the strict level finds solid bands exactly, the loose one the blurred fills of smooth pictures)...
FLAT_FRACTION = 0.12
LOOSE_FRACTION = 0.3
#: ...and at most this many grey levels (so a picture that is smooth everywhere is never eaten).
FLAT_LEVEL = 3.0
#: A side is trimmed only when the band is at least this share of the side (below: JPEG edges).
MIN_BAND = 0.01
#: What is left must keep at least this share of each side, or the box is refused.
MIN_KEEP = 0.3


class Box(NamedTuple):
    """Rows ``top`` to ``bottom`` (exclusive) and columns ``left`` to ``right`` (exclusive)."""

    top: int
    bottom: int
    left: int
    right: int


def content_boxes(grey: np.ndarray) -> list[Box]:
    """The distinct boxes found at the strict and the loose flatness level (none, one or two).

    The activity profiles are computed once for both levels (they are most of the cost)."""
    pixels = np.asarray(grey)
    if min(pixels.shape) < 16:
        return []
    profiles = _profiles(pixels)
    boxes = [_box(pixels.shape, profiles, fraction) for fraction in (FLAT_FRACTION, LOOSE_FRACTION)]
    return list(dict.fromkeys(box for box in boxes if box is not None))


def content_box(grey: np.ndarray, fraction: float = FLAT_FRACTION) -> Box | None:
    """The box of the picture inside a flat border, or None when no side has a border.

    ``grey`` is a (height, width) luma plane, 0-255; ``fraction`` the flatness level.
    """
    pixels = np.asarray(grey)
    if min(pixels.shape) < 16:
        return None
    return _box(pixels.shape, _profiles(pixels), fraction)


def _profiles(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's and each column's mean absolute difference between neighbouring pixels along it.
    On 8-bit planes the differences are taken in int16 (exact, and cheaper than float)."""
    kind = np.int16 if pixels.dtype == np.uint8 else np.float32
    plane = pixels.astype(kind, copy=False)
    rows = np.abs(np.diff(plane, axis=1)).mean(axis=1, dtype=np.float32)
    cols = np.abs(np.diff(plane, axis=0)).mean(axis=0, dtype=np.float32)
    return rows, cols


def _box(shape: tuple[int, int], profiles: tuple[np.ndarray, np.ndarray], fraction: float) -> Box | None:
    height, width = shape
    top, bottom = _band(profiles[0], fraction)
    left, right = _band(profiles[1], fraction)
    box = Box(top, height - bottom, left, width - right)
    if box == Box(0, height, 0, width):
        return None
    if box.bottom - box.top < MIN_KEEP * height or box.right - box.left < MIN_KEEP * width:
        return None
    return box


def _band(activity: np.ndarray, fraction: float) -> tuple[int, int]:
    """How many flat lines lie at the start and at the end of one axis' activity profile."""
    n = len(activity)
    middle = activity[n // 4 : n - n // 4]
    limit = min(FLAT_LEVEL, fraction * float(np.median(middle))) if len(middle) else 0.0
    flat = activity <= max(limit, 0.5)
    start = int(np.argmin(flat)) if not flat.all() else n
    end = int(np.argmin(flat[::-1])) if not flat.all() else n
    minimum = max(1, int(MIN_BAND * n))
    return (start if start >= minimum else 0), (end if end >= minimum else 0)
