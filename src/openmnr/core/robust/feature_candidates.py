"""The candidate stage of the feature scan: which bank entries are worth measuring for a query.

``FeatureIndex`` used to measure the Hamming distance from every stored keypoint to every query
keypoint (128 x 750 per entry), which is linear in the bank and about a second per 1,000 entries
on the loaded test machine. Almost all of that work goes to entries that cannot match.

Tables. Each 256-bit ORB descriptor is cut into ``TABLES`` chunks of ``CHUNK_BITS`` bits; for
each chunk a table holds every stored keypoint's row, ordered by that chunk's value. A stored
keypoint is *hit* by a query when at least one of its chunks equals the same chunk of at least
one query descriptor (looked up by binary search, 750 x ``TABLES`` lookups). An entry is a
*candidate* when at least ``MIN_VOTES`` of its keypoints are hit. Only the candidates' keypoints
then go through the exact stage (``FeatureIndex``: distances to every query descriptor, the ratio
test against the other query keypoints, RANSAC), which is unchanged, so for a candidate entry the
answer is bit for bit the exhaustive scan's.

What it trades. The tables do not bound the distance (a true pair within 64 bits need not share
any exact chunk), so an entry the exhaustive scan would match could in principle be left out.
A match needs at least ``MIN_INLIERS`` (16) close pairs, and each close pair usually shares a
chunk, so a true entry gets many votes while an unrelated one gets a few chance ones; the
figures (docs/decisions/0034-feature-scan-index.md, ``bench/feature_scan.py`` and the property
test against the exhaustive scan in tests/core) show no decision changed. The tables cost
``TABLES`` x (4-byte row + 4-byte value) per stored keypoint, built once per change of the index
on first use (argsort of each table).
"""

import numpy as np

#: Bits per chunk, and how many of the descriptor's 256 / CHUNK_BITS chunks get a table.
CHUNK_BITS = 24
TABLES = 10
#: Hit keypoints an entry needs to be a candidate.
MIN_VOTES = 4
#: A chunk value held by more stored keypoints than this many times the average for the bank's
#: size (and more than ``MIN_BUCKET``) is a common one (flat or edge-like patches, which ORB
#: describes alike in many pictures) and is not looked up: it would vote for most entries.
COMMON_FACTOR = 64
MIN_BUCKET = 4


def chunk_values(descriptors: np.ndarray, bits: int = CHUNK_BITS, tables: int = TABLES) -> np.ndarray:
    """(tables, n) uint32: the first ``tables`` chunks of ``bits`` bits (whole bytes, 8 to 32) of
    each (n, 32) uint8 descriptor."""
    if bits % 8 or not 8 <= bits <= 32 or tables * bits > 256:
        raise ValueError("chunks are 1 to 4 whole bytes and fit in 256 bits")
    width, count = bits // 8, len(descriptors)
    # Each chunk's bytes into the low bytes of a little-endian 32-bit word, read as one array.
    wide = np.zeros((count, tables, 4), np.uint8)
    wide[:, :, :width] = descriptors[:, : tables * width].reshape(count, tables, width)
    return np.ascontiguousarray(wide.view("<u4").reshape(count, tables).T).astype(np.uint32, copy=False)


class ChunkTables:
    """The chunk tables of one state of a ``FeatureIndex`` (immutable once built).

    ``ids`` is the entry of each stored row; an entry's rows are contiguous (``FeatureIndex``
    appends an entry's keypoints as one block and removal keeps the order), which is what lets a
    candidate entry's rows be taken as one slice.
    """

    def __init__(
        self, descriptors: np.ndarray, ids: np.ndarray, bits: int = CHUNK_BITS, tables: int = TABLES
    ):
        self.bits, self.tables = bits, tables
        values = chunk_values(descriptors, bits, tables)
        # Sort (value, row) pairs packed in 64 bits: a plain sort, faster than an argsort.
        packed = (values.astype(np.uint64) << np.uint64(32)) | np.arange(len(ids), dtype=np.uint64)
        packed.sort(axis=1)
        self.keys = (packed >> np.uint64(32)).astype(np.uint32)
        self.order = (packed & np.uint64(0xFFFFFFFF)).astype(np.int32)
        del packed
        count = len(ids)
        edges = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        self.starts = np.concatenate([[0], edges]).astype(np.int64)
        self.ends = np.concatenate([edges, [count]]).astype(np.int64)
        self.block = np.repeat(np.arange(len(self.starts), dtype=np.int32), self.ends - self.starts)

    @property
    def nbytes(self) -> int:
        return (
            self.order.nbytes + self.keys.nbytes + self.block.nbytes + self.starts.nbytes + self.ends.nbytes
        )

    def candidate_rows(self, query_descriptors: np.ndarray, min_votes: int = MIN_VOTES) -> np.ndarray:
        """Rows (ascending) of every entry with at least ``min_votes`` keypoints hit by the query."""
        if not len(self.block):
            return np.zeros(0, np.int64)
        wanted = chunk_values(query_descriptors, self.bits, self.tables)
        common = max(MIN_BUCKET, COMMON_FACTOR * len(self.block) / 2**self.bits)
        hits = []
        for table in range(self.tables):
            keys = self.keys[table]
            low = np.searchsorted(keys, wanted[table], "left")
            high = np.searchsorted(keys, wanted[table], "right")
            counts = np.where(high - low > common, 0, high - low)
            total = int(counts.sum())
            if not total:
                continue
            # The rows of every [low, high) range of the ordered table, concatenated.
            offsets = np.repeat(low - (np.cumsum(counts) - counts), counts) + np.arange(total)
            hits.append(self.order[table][offsets])
        if not hits:
            return np.zeros(0, np.int64)
        rows = np.zeros(len(self.block), bool)
        rows[np.concatenate(hits)] = True  # each stored keypoint votes once
        votes = np.bincount(self.block[rows], minlength=len(self.starts))
        chosen = np.flatnonzero(votes >= min_votes)
        if not len(chosen):
            return np.zeros(0, np.int64)
        starts, ends = self.starts[chosen], self.ends[chosen]
        sizes = ends - starts
        return np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
