"""Multi-index hashing: the exact radius search behind ``PDQIndex``.

A ``Segment`` holds n PDQ hashes (256 bits each, kept as four 64-bit words) with their ids and
answers "which stored hashes lie within Hamming distance r of this query?" with no misses.

Why no hash is missed (the pigeonhole principle). Cut the 256 bits into m disjoint chunks and give
chunk c a budget t_c. A stored hash that differs from the query in more than t_c bits in every chunk
differs in at least sum(t_c + 1) bits overall. So when sum(t_c + 1) > r, every hash within distance
r is within t_c bits of the query on at least one chunk. For each chunk we look up every value
within t_c bits of the query's value (the "probes") in a table keyed by chunk value, and measure the
full distance of every hash found there (the "candidates"), keeping those within r.

Tables. Each 64-bit word is cut into ``fields`` chunks. With 4 fields (16 chunks of 16 bits) a table
has 65,536 buckets; at radius 31 every chunk gets budget 1 (17 probes each, 272 in all), which at
10M hashes finds ~41,000 candidates per query. With 3 fields (12 chunks of 21-22 bits, 128 MiB of
tables) buckets hold a few hashes; budgets of 2 on eight chunks and 1 on four give ~2,000 probes and
~7,000 candidates at 10M: four times fewer memory accesses, so large segments use 3 fields. Each table
is stored in CSR form: ``perm`` lists row numbers ordered by chunk value and ``offsets[v]`` is where
the rows of value v start, so a probe is two array reads.

Budgets. For a radius r, ``_budgets`` gives every chunk floor(r / m) and then lowers the budgets
where that saves the most expected work while keeping sum(t_c + 1) > r; a budget of -1 means the
chunk is not probed (radius 0 needs a single exact probe). Any radius from 0 to 255 is answered
exactly; the cost grows with the radius.

Segments smaller than ``BRUTE_FORCE_BELOW`` rows have no tables: every row is a candidate.
"""

from dataclasses import dataclass
from functools import cache
from math import comb

import numpy as np

#: Below this many rows a segment is scanned in full: cheaper than 272+ probes and 4 MiB of tables.
BRUTE_FORCE_BELOW = 4096
#: From this many rows a segment uses 21/22-bit chunks (3 fields per word); below, 16-bit chunks.
WIDE_CHUNKS_FROM = 1 << 21
#: Queries are processed in groups expected to produce about this many candidates: bounded memory,
#: and arrays small enough to stay in cache between numpy steps.
CANDIDATES_PER_STEP = 1 << 16


class Layout:
    """How hashes are cut into chunks: every 64-bit word into ``fields`` near-equal bit fields.

    ``fields`` 0 means no chunks (the segment is scanned in full).
    """

    def __init__(self, fields: int):
        widths = [64 // fields + (i < 64 % fields) for i in range(fields)] if fields else []
        shifts = [sum(widths[:i]) for i in range(fields)]
        self.bits = widths * 4  # width of each chunk, word by word
        self._word = np.repeat(np.arange(4), fields)
        self._shift = np.array(shifts * 4, np.uint64)
        self._mask = np.array([(1 << b) - 1 for b in self.bits], np.uint64)

    def values(self, words: np.ndarray, chunk: int | slice = slice(None)) -> np.ndarray:
        """The chunk values (all chunks, or one) of each row of an (n, 4) uint64 array, as int64."""
        word, shift, mask = self._word[chunk], self._shift[chunk], self._mask[chunk]
        return ((words[:, word] >> shift) & mask).astype(np.int64)


@cache
def layout(fields: int) -> Layout:
    return Layout(fields)


def fields_for(n: int) -> int:
    """The layout for a segment of n rows."""
    if n < BRUTE_FORCE_BELOW:
        return 0
    return 3 if n >= WIDE_CHUNKS_FROM else 4


@dataclass(frozen=True)
class _Plan:
    """The probes for one radius: probe i looks up value (query chunk ^ mask[i]) of chunk chunk[i]."""

    chunk: np.ndarray  # (P,) chunk number of each probe
    mask: np.ndarray  # (P,) int64 bits flipped in the query's chunk value
    table_start: np.ndarray  # (P,) where that chunk's offsets begin in ``Segment.offsets``
    perm_start: np.ndarray  # (P,) where that chunk's rows begin in ``Segment.perm``
    candidates: float  # expected candidates per query, to size query groups


class Segment:
    """An immutable set of PDQ hashes and their int64 ids, sorted by id, searchable by radius.

    Only ``removed`` (one flag per row) changes after construction, so the other arrays may be
    read-only memory maps of a saved index.
    """

    def __init__(self, words, ids, fields, perm, offsets, removed=None):
        self.words = words  # (n, 4) uint64
        self.ids = ids  # (n,) int64, ascending
        self.fields = fields
        self.layout = layout(fields)
        self.perm = perm  # (chunks * n,) uint32: rows ordered by chunk 0's value, then chunk 1's...
        self.offsets = offsets  # (sum of 2**bits + 1 over chunks,) uint32: each chunk's table
        self.removed = np.zeros(len(ids), bool) if removed is None else removed
        self.live = len(ids) - int(np.count_nonzero(self.removed))
        self._table_starts = np.cumsum([0] + [(1 << bits) + 1 for bits in self.layout.bits])
        self._plans: dict[int, _Plan] = {}

    @classmethod
    def build(cls, words: np.ndarray, ids: np.ndarray) -> "Segment":
        order = np.argsort(ids, kind="stable")
        words, ids = np.take(words, order, axis=0), ids[order]
        n, fields = len(ids), fields_for(len(ids))
        bits = layout(fields).bits
        # Filled in place rather than concatenated from pieces, so a 10M build peaks lower and
        # leaves no freed pieces behind in the process's heap.
        perm = np.empty(len(bits) * n, np.uint32)
        offsets = np.zeros(sum((1 << b) + 1 for b in bits), np.uint32)
        table_start = 0
        for c, b in enumerate(bits):
            values = layout(fields).values(words, c)
            # One numeric sort of (value << 32 | row) orders the rows by value: numpy sorts plain
            # integers several times faster than it argsorts them. Assigning keeps the low 32 bits.
            packed = values.astype(np.uint64)
            packed <<= np.uint64(32)
            packed |= np.arange(n, dtype=np.uint64)
            packed.sort()
            perm[c * n : (c + 1) * n] = packed
            table = offsets[table_start : table_start + (1 << b) + 1]
            np.cumsum(np.bincount(values, minlength=1 << b), out=table[1:])
            table_start += len(table)
        return cls(words, ids, fields, perm, offsets)

    def __len__(self) -> int:
        return len(self.ids)

    def live_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The (words, ids) of the rows not removed, for rebuilding."""
        keep = ~self.removed
        return self.words[keep], self.ids[keep]

    def remove(self, ids: np.ndarray) -> int:
        """Flag every row holding one of ``ids`` (sorted, unique) as removed; return how many."""
        first = np.searchsorted(self.ids, ids, "left")
        counts = np.searchsorted(self.ids, ids, "right") - first
        rows = concat_ranges(first, counts)
        rows = rows[~self.removed[rows]]
        self.removed[rows] = True
        self.live -= len(rows)
        return len(rows)

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every live row within ``radius`` of each query of an (q, 4) uint64 array.

        Returns (query number, id, distance) arrays; a row may appear more than once per query.
        """
        expected = self._plan(radius).candidates if self.fields else len(self)
        step = max(1, int(CANDIDATES_PER_STEP // max(expected, 1)))
        found = [(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint16))]
        for start in range(0, len(queries), step):
            group = queries[start : start + step]
            rows, per_query = self._candidates(group, radius)
            distances = _distances(self.words, rows, np.repeat(group, per_query, axis=0))
            keep = distances <= radius
            if self.live < len(self):
                keep &= ~self.removed[rows]
            keep = np.flatnonzero(keep)
            which = np.searchsorted(np.cumsum(per_query), keep, "right")  # the query of each kept row
            found.append((which + start, self.ids[rows[keep]], distances[keep]))
        return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))

    def _candidates(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows worth measuring for each query, query after query, and how many per query:
        every row, or the rows the probes find."""
        q, n = len(queries), len(self)
        if not self.fields:
            return np.tile(np.arange(n), q), np.full(q, n)
        plan = self._plan(radius)
        keys = (self.layout.values(queries)[:, plan.chunk] ^ plan.mask) + plan.table_start  # (q, probes)
        starts = self.offsets[keys].astype(np.int64)
        counts = self.offsets[keys + 1].astype(np.int64) - starts
        rows = np.take(self.perm, concat_ranges(starts + plan.perm_start, counts))
        return rows, counts.sum(axis=1)

    def _plan(self, radius: int) -> _Plan:
        plan = self._plans.get(radius)
        if plan is None:
            n, bits = len(self), self.layout.bits
            flips = [_flips(b, budget) for b, budget in zip(bits, _budgets(bits, radius, n), strict=True)]
            chunk = np.repeat(np.arange(len(bits)), [len(f) for f in flips])
            plan = _Plan(
                chunk=chunk,
                mask=np.concatenate(flips),
                table_start=self._table_starts[chunk],
                perm_start=chunk * n,
                candidates=sum(len(f) * n / 2**b for f, b in zip(flips, bits, strict=True)),
            )
            self._plans[radius] = plan
        return plan


def _budgets(bits: list[int], radius: int, n: int) -> list[int]:
    """Per-chunk budgets t_c with sum(t_c + 1) > radius that keep the expected work low."""
    m = len(bits)
    budgets = [radius // m] * m

    def work(c: int, budget: int) -> float:
        # Each probe costs about one memory access, plus one per candidate it finds.
        return sum(comb(bits[c], k) for k in range(budget + 1)) * (1 + n / 2 ** bits[c])

    for _ in range(m * (radius // m + 1) - (radius + 1)):
        c = max(range(m), key=lambda c: work(c, budgets[c]) - work(c, budgets[c] - 1))
        budgets[c] -= 1
    return budgets


@cache
def _flips(bits: int, budget: int) -> np.ndarray:
    """Every ``bits``-bit value with at most ``budget`` bits set: the masks of one chunk's probes."""
    values = np.arange(1 << bits, dtype=np.int64)
    return values[np.bitwise_count(values) <= budget]


def concat_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """range(s, s + c) for every (s, c) pair, concatenated, without a Python loop."""
    starts, counts = starts.ravel(), counts.ravel()
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(starts - (ends - counts), counts) + np.arange(total)


def _distances(words: np.ndarray, rows: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Hamming distance between stored row ``rows[i]`` and ``queries[i]``, as uint16."""
    # np.take rather than fancy indexing: several times faster for gathering whole rows.
    x = np.take(words, rows, axis=0)
    x ^= queries
    bits = np.bitwise_count(x)  # (n, 4) uint8
    # Pairwise sums stay within uint8 (<= 128) and are then widened; .sum(axis=1) is much slower.
    return (bits[:, 0] + bits[:, 1]).astype(np.uint16) + (bits[:, 2] + bits[:, 3])
