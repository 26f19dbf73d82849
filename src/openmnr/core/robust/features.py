"""Local features: a second, independent way to recognise a picture after crops, frames and rotations.

PDQ describes the whole frame, so anything that moves the picture inside the frame (a cut of a
few per cent at one side, a frame, a rotation of a few degrees) moves its hash far away: on the
natural corpus a 3% cut or a 2 degree rotation already leaves most copies beyond 31 bits. Local
features do not care about the frame. Each picture is described by its strongest ORB keypoints
(position, and a 256-bit binary descriptor of the patch around it, oriented by the patch's own
gradient, so rotation does not change it); two pictures are the same when enough keypoint pairs
with close descriptors agree on one similarity transform (shift, turn, scale), which a random
set of pairs almost never does.

What a bank entry stores: ``ENTRY_POINTS`` keypoints (default 64) at 36 bytes each (two 16-bit
coordinates and the 32-byte descriptor): ``Features.to_bytes`` is 2,306 bytes, 72 times a PDQ
hash. That is why they are an option for banks of up to some hundred thousand entries (a
hotline's own confirmed bank), not for ten-million-entry lists. ``FeatureIndex`` first finds the
candidate entries (``feature_candidates``: enough stored keypoints sharing an exact 24-bit
descriptor chunk with a query keypoint), then compares every query descriptor with every stored
one of those entries only (OpenCV's SIMD Hamming matcher); the exhaustive scan of every stored
keypoint, linear in the bank, stays as the reference (``exhaustive=True``). docs/matching.md and
docs/decisions/0034-feature-scan-index.md give the measured costs.

A query (an upload no hash matched) brings ``QUERY_POINTS`` keypoints of the whole picture and
``INNER_POINTS`` of its inner region (``inner_points``): a picture framed by another one keeps
enough of its own keypoints among them.

The decision (``FeatureIndex.query``): an entry matches when at least ``MIN_INLIERS`` of its
keypoints have a query keypoint within ``MAX_DESCRIPTOR_DISTANCE`` bits that passes Lowe's ratio
test *against the other query keypoints* (so the test does not weaken as the bank grows) and
RANSAC finds a similarity transform, with a scale between 1/8 and 8, that puts them within
``REPROJECTION`` (of the longer side) of where they were seen. Coordinates are relative to the
picture's longer side after scaling it to ``SIDE`` pixels, so a resized copy has the same ones.

OpenCV (``opencv-python-headless``) is needed only here and is imported on first use; without it
``extract`` raises ``FeaturesUnavailable``.
"""

import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from openmnr.core import media
from openmnr.core.robust.feature_candidates import ChunkTables

SIDE = 512
ENTRY_POINTS = 64
#: What a bank entry keeps (openmnr.banks, ``OPENMNR_MATCH_FEATURES``): twice ``ENTRY_POINTS``.
#: Measured side by side (bench/robustness.py, "wired" and "wired 128"): 128 keypoints lift a crop
#: of 10% at two sides or the centre from 82% to 97%, a frame of another picture (20%) from 74% to
#: 85% and a screenshot from 62% to 79%, with no false match either way, for 4.3 kB an entry
#: instead of 2.2 kB and twice the scan (docs/decisions/0027-local-features-in-the-banks.md).
BANK_POINTS = 128
QUERY_POINTS = 500
#: A query's keypoints also include this many of the picture's *inner* region (``INNER_MARGIN``
#: cut off each side), found at that region's own scale. A picture framed by another picture
#: (or put on a busy page) loses its keypoints among the frame's in the 500 strongest of the
#: whole; the inner region is mostly the picture itself. Measured (docs/decisions/0031): the
#: frame of another picture at 10/20/40% from 92.6/85.3/72.1% to 95.6/95.6/97.1%, no edit lower,
#: no false match, for half as many query points again in the scan.
INNER_POINTS = 250
INNER_MARGIN = 0.15
MAX_DESCRIPTOR_DISTANCE = 64
RATIO = 0.8
REPROJECTION = 0.01
MIN_INLIERS = 16
#: Entries with fewer raw descriptor matches than this are not checked geometrically.
MIN_CANDIDATE_MATCHES = 8
#: Below this many stored keypoints (32 entries of ``BANK_POINTS``) ``FeatureIndex`` measures
#: every one: the candidate tables (``feature_candidates``) pay only in larger banks.
SCAN_ALL_BELOW = 4096
_VERSION = 1


class FeaturesUnavailable(RuntimeError):
    """OpenCV is not installed, so local features cannot be computed."""


class InvalidFeatures(ValueError):
    """Stored features are malformed."""


@dataclass(frozen=True)
class Features:
    """Keypoints of one picture: ``points`` (n, 2) float32 in [0, 1] of the longer side,
    ``descriptors`` (n, 32) uint8."""

    points: np.ndarray
    descriptors: np.ndarray

    def __len__(self) -> int:
        return len(self.points)

    def to_bytes(self) -> bytes:
        """Version, count, then per keypoint x and y as 16-bit fractions and the descriptor."""
        coords = np.round(np.clip(self.points, 0, 1) * 65535).astype("<u2")
        rows = np.concatenate([coords.view(np.uint8).reshape(-1, 4), self.descriptors], axis=1)
        return struct.pack("<BH", _VERSION, len(self)) + rows.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Features":
        if len(data) < 3:
            raise InvalidFeatures("local features: too short")
        version, count = struct.unpack_from("<BH", data)
        if version != _VERSION or len(data) != 3 + 36 * count:
            raise InvalidFeatures("local features: unknown version or wrong length")
        rows = np.frombuffer(data, np.uint8, offset=3).reshape(count, 36)
        points = rows[:, :4].copy().view("<u2").astype(np.float32) / 65535
        return cls(points.reshape(count, 2), rows[:, 4:].copy())


def _cv2():
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - exercised only without the dependency
        raise FeaturesUnavailable("local features need the opencv-python-headless package") from error
    return cv2


def inner_points(count: int) -> int:
    """How many inner-region keypoints go with ``count`` strongest ones: ``INNER_POINTS`` for a
    query (it asks for more than any bank entry keeps, ``BANK_POINTS``), none for an entry, whose
    keypoints describe the whole picture as it was confirmed."""
    return INNER_POINTS if count > BANK_POINTS else 0


def extract_grey(grey: np.ndarray, count: int = ENTRY_POINTS, *, inner: int = 0) -> Features:
    """The ``count`` strongest keypoints of a luma plane (height, width), 0-255, and, with
    ``inner``, that many more of its inner region (``INNER_MARGIN`` cut off each side), in the
    whole picture's coordinates."""
    found = _strongest(grey, count)
    if not inner:
        return found
    height, width = grey.shape[:2]
    dy, dx = round(height * INNER_MARGIN), round(width * INNER_MARGIN)
    if min(height - 2 * dy, width - 2 * dx) < 32:
        return found
    middle = _strongest(grey[dy : height - dy, dx : width - dx], inner)
    side, middle_side = max(height, width), max(height - 2 * dy, width - 2 * dx)
    points = middle.points * np.float32(middle_side / side) + np.float32([dx / side, dy / side])
    return Features(
        np.concatenate([found.points, points.astype(np.float32)]),
        np.concatenate([found.descriptors, middle.descriptors]),
    )


def _strongest(grey: np.ndarray, count: int) -> Features:
    cv2 = _cv2()
    grey = np.ascontiguousarray(grey, dtype=np.uint8)
    scale = SIDE / max(grey.shape)
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    orb = cv2.ORB_create(nfeatures=count, fastThreshold=10, edgeThreshold=15, patchSize=31)
    keypoints, descriptors = orb.detectAndCompute(grey, None)
    if descriptors is None:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    points = np.float32([point.pt for point in keypoints]) / SIDE
    return Features(points[:count], descriptors[:count])


def extract(
    source: media.Source, count: int = ENTRY_POINTS, *, max_pixels: int = media.MAX_PIXELS, inner: int = 0
) -> Features:
    """Local features of an image given as bytes, a path or a file object (``extract_grey``)."""
    grey = np.asarray(media.decode_rgb(source, max_pixels=max_pixels).convert("L"))
    return extract_grey(grey, count, inner=inner)


def extract_reduced(
    reduced: media.Reduced,
    data: bytes,
    count: int = ENTRY_POINTS,
    *,
    max_pixels: int = media.MAX_PIXELS,
    inner: int = 0,
) -> Features:
    """As ``extract``, from the reduced luma decode the hashes were made from (``media.decode_reduced``
    of ``data``) whenever it has the pixels ``extract_grey`` would keep, so an upload is decoded once.

    ``extract_grey`` scales the picture's longer side to ``SIDE`` (and, with ``inner``, its inner
    region's longer side to ``SIDE``: the whole to ``inner_side``). A reduced decode with at least
    that many pixels, or not reduced at all (its pixels are the full picture's luma), is used as
    it is: the same pixels up to the rounding of the colour conversion and, for a JPEG reduced by
    libjpeg's DCT scaling, the filter that made the reduction. Otherwise (a JPEG reduced below
    that, or another format box-averaged below it) the picture is decoded again, to luma and only
    as far down as those pixels allow, which costs a fraction of ``extract``'s full RGB decode.
    """
    width, height = reduced.full_size
    need = inner_side() if inner else SIDE
    grey = reduced.grey
    if reduced.scale > 1 and max(grey.size) < min(need, max(width, height)):
        short = math.ceil(need * min(width, height) / max(width, height))
        grey = media.decode_reduced(data, short, max_pixels=max_pixels).grey
    return extract_grey(np.asarray(grey), count, inner=inner)


def inner_side() -> int:
    """The longer side a picture needs for its inner region's to be ``SIDE`` pixels."""
    return math.ceil(SIDE / (1 - 2 * INNER_MARGIN))


class FeatureIndex:
    """Every stored keypoint of a bank, with the entry it belongs to; see the module docstring."""

    def __init__(self):
        self._points = np.zeros((0, 2), np.float32)
        self._descriptors = np.zeros((0, 32), np.uint8)
        self._ids = np.zeros(0, np.int64)
        self._entries: set[int] = set()
        self._tables: ChunkTables | None = None  # built on first query after a change

    def __len__(self) -> int:
        return len(self._entries)

    def copy(self) -> "FeatureIndex":
        """An independent copy (the arrays are shared until either side changes them: every
        change replaces them), so that a reader keeps a consistent index while a writer changes
        the copy and swaps it in."""
        other = FeatureIndex()
        other._points, other._descriptors, other._ids = self._points, self._descriptors, self._ids
        other._entries = set(self._entries)
        other._tables = self._tables
        return other

    def __contains__(self, entry_id: int) -> bool:
        return entry_id in self._entries

    @property
    def entry_ids(self) -> set[int]:
        return set(self._entries)

    def add(self, entry_id: int, features: Features) -> None:
        self.add_many([(entry_id, features)])

    def add_many(self, items: Iterable[tuple[int, Features]]) -> None:
        """Add several entries with one copy of the arrays (adding one at a time copies them
        each time). An entry already held is left as it is: adding is idempotent."""
        points, descriptors, ids = [self._points], [self._descriptors], [self._ids]
        for entry_id, features in items:
            if entry_id in self._entries:
                continue
            self._entries.add(entry_id)
            points.append(features.points)
            descriptors.append(features.descriptors)
            ids.append(np.full(len(features), entry_id, np.int64))
        if len(ids) > 1:
            self._points = np.concatenate(points)
            self._descriptors = np.concatenate(descriptors)
            self._ids = np.concatenate(ids)
            self._tables = None

    def remove(self, entry_id: int) -> None:
        self.remove_many([entry_id])

    def remove_many(self, entry_ids: Iterable[int]) -> None:
        gone = {int(i) for i in entry_ids} & self._entries
        if not gone:
            return
        self._entries -= gone
        keep = ~np.isin(self._ids, list(gone))
        self._points, self._descriptors, self._ids = (
            self._points[keep],
            self._descriptors[keep],
            self._ids[keep],
        )
        self._tables = None

    def query(
        self, query: Features, min_inliers: int = MIN_INLIERS, *, exhaustive: bool = False
    ) -> list[tuple[int, int]]:
        """(entry id, inliers) of every entry that matches, most inliers first."""
        return [(i, n) for i, n in self.inliers(query, exhaustive=exhaustive) if n >= min_inliers]

    def inliers(self, query: Features, *, exhaustive: bool = False) -> list[tuple[int, int]]:
        """(entry id, inliers) of every entry with enough raw matches to be checked, most first.

        By default only the candidate entries of ``feature_candidates`` (entries with enough
        stored keypoints sharing an exact descriptor chunk with a query keypoint) are measured,
        and a candidate's answer is the exhaustive scan's, bit for bit; ``exhaustive`` measures
        every stored keypoint (the reference the tests compare with). Banks below
        ``SCAN_ALL_BELOW`` stored keypoints are always scanned in full: there the tables cost
        more than they save."""
        if len(query) < 2 or not len(self._ids):
            return []
        if exhaustive or len(self._ids) < SCAN_ALL_BELOW:
            return self._measured(query, None)
        tables = self._tables
        if tables is None:  # two threads may both build it: the same tables, built twice
            tables = self._tables = ChunkTables(self._descriptors, self._ids)
        rows = tables.candidate_rows(query.descriptors)
        return self._measured(query, rows) if len(rows) else []

    def _measured(self, query: Features, rows: np.ndarray | None) -> list[tuple[int, int]]:
        """The exact stage over ``rows`` (ascending; all rows with None): the same per entry
        whatever other rows are measured, since each stored keypoint is tested on its own."""
        cv2 = _cv2()
        descriptors, ids, points = self._descriptors, self._ids, self._points
        if rows is not None:
            descriptors, ids, points = descriptors[rows], ids[rows], points[rows]
        # The two nearest query descriptors of every stored one, as arrays (OpenCV's Hamming
        # distances; ``BFMatcher.knnMatch`` gives the same but as one Python object per stored
        # keypoint, which costs more than the distances in a bank of thousands).
        distances, nearest = cv2.batchDistance(
            descriptors, query.descriptors, cv2.CV_32S, normType=cv2.NORM_HAMMING, K=2
        )
        good = (distances[:, 0] <= MAX_DESCRIPTOR_DISTANCE) & (distances[:, 0] < RATIO * distances[:, 1])
        stored = np.flatnonzero(good)
        seen = nearest[good, 0].astype(np.int64)
        entries = ids[stored]
        found_ids, counts = np.unique(entries, return_counts=True)
        found = []
        for entry_id in found_ids[counts >= MIN_CANDIDATE_MATCHES]:
            chosen = entries == entry_id
            count = _consistent(points[stored[chosen]], query.points[seen[chosen]])
            if count:
                found.append((int(entry_id), count))
        return sorted(found, key=lambda item: (-item[1], item[0]))


def inliers(query: Features, entry: Features) -> int:
    """How many of ``entry``'s keypoints agree with ``query`` on one similarity transform."""
    index = FeatureIndex()
    index.add(0, entry)
    found = index.inliers(query, exhaustive=True)
    return found[0][1] if found else 0


def _consistent(source: np.ndarray, target: np.ndarray) -> int:
    """Inliers of the best similarity transform from ``source`` to ``target`` points (RANSAC)."""
    cv2 = _cv2()
    transform, mask = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=REPROJECTION, maxIters=2000, confidence=0.995
    )
    if transform is None or mask is None:
        return 0
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not 1 / 8 <= scale <= 8:
        return 0
    # Count distinct keypoints on both sides: one query keypoint matched by many stored ones
    # (a repeated texture) is one piece of evidence.
    chosen = mask.ravel().astype(bool)
    return int(
        min(
            len(np.unique(np.round(source[chosen], 3), axis=0)),
            len(np.unique(np.round(target[chosen], 3), axis=0)),
        )
    )
