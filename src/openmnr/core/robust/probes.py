"""Query probes: the PDQ hashes of an image's likely edits undone, looked up as one query.

An edited copy of a listed picture (turned, mirrored, framed, slightly rotated, cut at a side)
hashes far from the listed hash. Instead of storing more per bank entry, the query side computes
the hashes the *unedited* picture would plausibly have and looks them all up:

- ``dihedral``: the eight turns and mirrors, each hashed from the turned pixels (see
  ``pdq.hash_dihedral_exact``), plus the sign-change variants of the reference, which are what
  ThreatExchange's tools compute (deduplicated: mostly the same values);
- ``trim``: the picture inside a solid or blurred border (``trim.content_box``);
- ``rotations``: the picture turned back by each small angle of a sweep;
- ``crop_fill``: the picture extended at one side by a band of its own row or column means, as if
  a cut of that share were undone.

Each probe is one more chance for a random picture to land within the radius, so the false-match
rate grows with their number. The dihedral probes are searched at the full radius (turns and
mirrors are the commonest edits and their probes are near-duplicates of each other, so they
add few independent chances); every other probe at ``extra_radius``, lowered from the radius so
that, for independent fair bits, all the extra probes together add no more chance of a false match
than the original hash has at the full radius (``binomial_radius``). Real hashes' bits are not
independent, so the benchmark (bench/robustness.py) measures the false-match rate on a million
pairs of different pictures instead of trusting the model.

Every probe is hashed from the same reduced decode as fast mode, so the cost is one decode plus
one sampling pass (~0.2 ms) per probe, plus a resampling for each rotation.
"""

from dataclasses import dataclass
from functools import cache, partial
from math import comb

import numpy as np
from PIL import Image

from openmnr.core import media
from openmnr.core.index import DEFAULT_RADIUS, Matches, PDQIndex
from openmnr.core.robust.trim import content_boxes
from openmnr.core.signals import pdq
from openmnr.core.signals.base import HashValue


@dataclass(frozen=True)
class ProbeSettings:
    """Which probes a query gets. The default is what the benchmark showed pays for itself."""

    dihedral: bool = True
    trim: bool = True
    rotations: tuple[float, ...] = ()
    crop_fill: tuple[float, ...] = ()
    radius: int = DEFAULT_RADIUS
    #: None: from ``binomial_radius`` for the number of extra probes.
    extra_radius: int | None = None


@dataclass(frozen=True)
class Probes:
    """The hashes to look up for one image: ``primary`` at ``radius``, ``extra`` at ``extra_radius``.

    ``primary[0]`` is the image's plain fast-mode PDQ hash, so a probe search never finds less than
    PDQ alone. ``quality`` is that hash's quality (a low-quality image should not be matched).
    """

    primary: tuple[str, ...]
    extra: tuple[str, ...]
    quality: int
    radius: int
    extra_radius: int
    #: What made each extra probe ("trim", "rotation", "crop_fill"), in the order of ``extra``.
    extra_kinds: tuple[str, ...] = ()

    @property
    def low_quality(self) -> bool:
        return self.quality < pdq.QUALITY_THRESHOLD


def binomial_radius(extra: int, radius: int = DEFAULT_RADIUS, bits: int = 256) -> int:
    """The largest radius r with ``extra`` * P(d <= r) <= P(d <= radius), d ~ Binomial(bits, 1/2).

    For fair independent bits each bit off the radius makes a chance match about seven times rarer
    near 31, so 8 extra probes cost one bit, 50 two.
    """
    if extra <= 0:
        return radius
    return _binomial_radius(extra, radius, bits)


@cache
def _binomial_radius(extra: int, radius: int, bits: int) -> int:
    def tail(r: int) -> int:
        return sum(comb(bits, k) for k in range(r + 1))

    budget = tail(radius)
    found = radius
    while found > 0 and extra * tail(found) > budget:
        found -= 1
    return found


def hash_probed(
    source: media.Source,
    *,
    mode: pdq.Mode = "fast",
    isolate: bool = False,
    max_bytes: int = media.MAX_BYTES,
    max_pixels: int = media.MAX_PIXELS,
    dihedral: bool = True,
    trim: bool = True,
    keypoints: int = 0,
) -> HashValue:
    """``pdq.hash_media`` with the query probes of ``openmnr.core.robust.probes``: the hashes of the
    picture turned and mirrored (``dihedral``) and inside a flat or blurred border (``trim``).

    All are computed from one reduced decode (fast mode), so the probes cost about twice a plain
    fast hash, decode included (CPU, measured on the corpus; docs/decisions/0030), and no second
    decode. In reference mode the value itself is the reference
    hash (one more, full decode) and the probes stay fast-mode ones: a turned copy's fast-mode
    probe lies within a few bits of its reference hash.

    ``keypoints`` adds the picture's that many strongest local features, as ``HashValue.keypoints``,
    found in the same reduced decode when it has enough pixels (``features.extract_reduced``: for
    most uploads no second decode; docs/decisions/0033).
    """
    if mode not in pdq.MODES:
        raise ValueError(f"unknown PDQ mode {mode!r}; use one of {', '.join(pdq.MODES)}")
    if isolate:
        hasher = partial(
            hash_probed, mode=mode, max_pixels=max_pixels, dihedral=dihedral, trim=trim, keypoints=keypoints
        )
        return media.run_isolated(hasher, media.read_bytes(source, max_bytes))
    data = media.read_bytes(source, max_bytes)
    reduced = media.decode_reduced(data, pdq.FAST_MIN_SIDE, max_bytes=max_bytes, max_pixels=max_pixels)
    found = probes_from_reduced(reduced, ProbeSettings(dihedral=dihedral, trim=trim))
    if mode == "reference":
        plain = pdq.hash_rgb(np.asarray(media.decode_rgb(data, max_bytes=max_bytes, max_pixels=max_pixels)))
    else:
        plain = HashValue(found.primary[0], found.quality, found.low_quality)
    primary = tuple(key for key in found.primary if key != plain.value)
    extra = tuple(key for key in found.extra if key != plain.value and key not in primary)
    points = b""
    if keypoints:
        from openmnr.core.robust import features  # OpenCV, imported on first use

        inner = features.inner_points(keypoints)  # a query's: its inner region's too
        found_points = features.extract_reduced(reduced, data, keypoints, max_pixels=max_pixels, inner=inner)
        points = found_points.to_bytes()
    return HashValue(plain.value, plain.quality, plain.low_quality, primary, extra, points)


def probes(source: media.Source, settings: ProbeSettings = ProbeSettings()) -> Probes:
    """The probe hashes of one image given as bytes, a path or a file object (fast mode)."""
    reduced = media.decode_reduced(source, pdq.FAST_MIN_SIDE)
    return probes_from_reduced(reduced, settings)


def probes_from_reduced(reduced: media.Reduced, settings: ProbeSettings = ProbeSettings()) -> Probes:
    """As ``probes``, from a decode already made (``media.decode_reduced``)."""
    if settings.dihedral:
        # Its first exact variant is the plain hash, from the same sampling: no pass of its own.
        turned = pdq.dihedral_from_reduced(reduced)
        quality = turned.quality
        primary = [*turned.exact, *turned.sign_changes[1:]]
    else:
        plain = pdq.hash_reduced(reduced)
        quality = plain.quality
        primary = [plain.value]
    primary = list(dict.fromkeys(primary))
    grey = np.asarray(reduced.grey)
    extra: dict[str, str] = {}  # value -> kind, first kind wins
    if settings.trim:
        for box in content_boxes(grey):
            extra.setdefault(_hash(grey[box.top : box.bottom, box.left : box.right]), "trim")
    for angle in settings.rotations:
        extra.setdefault(_hash(_rotated(grey, -angle)), "rotation")
    for share in settings.crop_fill:
        for side in range(4):
            extra.setdefault(_hash(_filled(grey, share, side)), "crop_fill")
    for value in primary:
        extra.pop(value, None)
    extra_radius = settings.extra_radius
    if extra_radius is None:
        extra_radius = binomial_radius(len(extra), settings.radius)
    return Probes(tuple(primary), tuple(extra), quality, settings.radius, extra_radius, tuple(extra.values()))


def restrict(found: Probes, kinds: set[str], settings: ProbeSettings = ProbeSettings()) -> Probes:
    """The same probes with only the extra probes of ``kinds`` (and their radius recomputed):
    what a query with fewer options would have looked up, without hashing again."""
    kept = [
        (value, kind) for value, kind in zip(found.extra, found.extra_kinds, strict=True) if kind in kinds
    ]
    extra_radius = settings.extra_radius
    if extra_radius is None:
        extra_radius = binomial_radius(len(kept), found.radius)
    return Probes(
        found.primary,
        tuple(value for value, _ in kept),
        found.quality,
        found.radius,
        extra_radius,
        tuple(kind for _, kind in kept),
    )


def search(index: PDQIndex, found: Probes) -> Matches:
    """The index's entries within reach of any probe, each at its smallest distance."""
    parts = [index.query_variants(list(found.primary), found.radius)]
    if found.extra:
        parts.append(index.query_variants(list(found.extra), found.extra_radius))
    return merge(parts)


def best_distance(found: Probes, value: str) -> int | None:
    """The smallest distance from any probe to one stored hash, if within its probe's radius."""
    near = min(pdq.distance(probe, value) for probe in found.primary)
    if near <= found.radius:
        return near
    if found.extra:
        far = min(pdq.distance(probe, value) for probe in found.extra)
        if far <= found.extra_radius:
            return far
    return None


def merge(parts: list[Matches]) -> Matches:
    """One answer from several: each id once at its smallest distance, nearest first."""
    ids = np.concatenate([part.ids for part in parts])
    distances = np.concatenate([part.distances for part in parts])
    order = np.lexsort((distances, ids))
    ids, distances = ids[order], distances[order]
    first = np.ones(len(ids), bool)
    first[1:] = ids[1:] != ids[:-1]
    ids, distances = ids[first], distances[first]
    order = np.lexsort((ids, distances))
    return Matches(ids[order], distances[order])


def _hash(grey: np.ndarray) -> str:
    return pdq.hash_luma(grey).value


def _rotated(grey: np.ndarray, angle: float) -> np.ndarray:
    """The plane turned by ``angle`` degrees counter-clockwise about its centre, same size; the
    corners left empty take the picture's mean, which disturbs PDQ's low frequencies least."""
    image = Image.fromarray(np.ascontiguousarray(grey, dtype=np.uint8))
    return np.asarray(image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=int(grey.mean())))


def _filled(grey: np.ndarray, share: float, side: int) -> np.ndarray:
    """The plane extended at one side (0 left, 1 right, 2 top, 3 bottom) as if ``share`` of the
    original had been cut there, the band filled with the mean of each row (column)."""
    plane = grey if side < 2 else grey.T
    width = plane.shape[1]
    band = max(1, round(width * share / (1 - share)))
    fill = np.repeat(plane.mean(axis=1, keepdims=True), band, axis=1).astype(plane.dtype)
    out = np.concatenate([fill, plane] if side % 2 == 0 else [plane, fill], axis=1)
    return out if side < 2 else out.T
