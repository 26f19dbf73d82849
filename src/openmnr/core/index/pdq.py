"""The PDQ index: every stored hash within a Hamming radius of a query, with ids and distances.

Usage::

    index = PDQIndex.build(hashes, ids)   # hex strings, 32-byte values or a uint8 (n, 32) array
    index.query(pdq_hex)                  # Matches(ids, distances), nearest first; radius 31
    index.query_batch(hashes, radius=40)  # one Matches per query
    index.query_variants(eight_hashes)    # the 8 dihedral hashes of one image: one merged answer
    index.add(new_hashes, new_ids)        # live at once, no rebuild
    index.remove([entry_id])              # every hash stored under these ids
    index.save(path); PDQIndex.load(path) # load maps the file read-only: milliseconds at 10M

Ids are int64 values chosen by the caller (a bank entry's primary key). One id may hold several
hashes and one hash may be stored under several ids; an answer lists each id once, at its smallest
distance. The radius is 0 to ``MAX_RADIUS``; answers are exact (no misses) at every radius.

Entries live in three segments, each a ``mih.Segment`` (read its docstring for the algorithm):

- main: made by ``build`` or ``compact``, or mapped from a file by ``load``;
- delta: entries added since, rebuilt each time the tail fills up;
- tail: the last few thousand additions, small enough to scan in full.

So ``add`` costs at most a rebuild of the delta, never of main, until the delta holds more than
``delta_limit`` entries; then that ``add`` merges it into main (about as long as ``build``). A caller
that wants no such pause builds a fresh snapshot elsewhere (``build`` + ``save``) and swaps it in
with ``load`` before the delta gets that large. ``remove`` flags rows; they are dropped at the next
rebuild of their segment.

Queries take no lock: each reads the current tuple of segments, which writers replace whole.
Writers (``add``, ``remove``, ``compact``, ``save``) take a lock, so one index can serve several
query threads while a change-log follower thread updates it. Threads do not add throughput, though
(a query is many short numpy steps and holds the GIL between them): to use several cores, run
several processes that each ``load`` the same file; the mapped pages are shared between them.
"""

import threading
from dataclasses import dataclass
from os import PathLike

import numpy as np

from openmnr.core.index import storage
from openmnr.core.index.errors import IndexFileError, IndexInputError
from openmnr.core.index.hashes import Values, to_array, to_ids
from openmnr.core.index.mih import BRUTE_FORCE_BELOW, Segment, layout

#: PDQ's usual match threshold (ThreatExchange's PDQ_CONFIDENT_MATCH_THRESHOLD).
DEFAULT_RADIUS = 31
MAX_RADIUS = 63
HASH_BYTES = 32


@dataclass(frozen=True)
class Matches:
    """The ids within the radius of one query and their distances, nearest first, ties by id.

    ``ids`` is an int64 array and ``distances`` a uint16 array of the same length. Iterating yields
    (id, distance) pairs of Python ints.
    """

    ids: np.ndarray
    distances: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self):
        return zip(self.ids.tolist(), self.distances.tolist(), strict=True)


class PDQIndex:
    """A PDQ radius-search index; see the module docstring."""

    def __init__(self, *, delta_limit: int = 1 << 18):
        """An empty index. ``delta_limit``: entries added since the last build before a merge."""
        self.delta_limit = delta_limit
        self._segments = (_empty(), _empty(), _empty())
        self._lock = threading.Lock()

    @classmethod
    def build(cls, hashes: Values, ids, *, delta_limit: int = 1 << 18) -> "PDQIndex":
        """An index of ``hashes``, the i-th stored under ``ids[i]``."""
        index = cls(delta_limit=delta_limit)
        index._segments = (Segment.build(*_rows(hashes, ids)), _empty(), _empty())
        return index

    def __len__(self) -> int:
        return sum(segment.live for segment in self._segments)

    def add(self, hashes: Values, ids) -> None:
        """Store more hashes; they are found by every query that starts after this returns."""
        words, ids = _rows(hashes, ids)
        with self._lock:
            main, delta, tail = self._segments
            rows = _join(tail.live_rows(), (words, ids))
            if len(rows[1]) < BRUTE_FORCE_BELOW:
                tail = Segment.build(*rows)
            else:
                delta, tail = Segment.build(*_join(delta.live_rows(), rows)), _empty()
            if len(delta) > self.delta_limit:
                main, delta = Segment.build(*_join(main.live_rows(), delta.live_rows())), _empty()
            self._segments = (main, delta, tail)

    def remove(self, ids) -> int:
        """Remove every hash stored under any of ``ids``; return how many were removed."""
        ids = np.unique(to_ids(ids))
        with self._lock:
            return sum(segment.remove(ids) for segment in self._segments)

    def compact(self) -> None:
        """Rebuild main from every live entry, emptying the delta and tail and dropping removed rows."""
        with self._lock:
            rows = [segment.live_rows() for segment in self._segments]
            self._segments = (Segment.build(*_join(*rows)), _empty(), _empty())

    def query(self, hash: str | bytes | np.ndarray, radius: int = DEFAULT_RADIUS) -> Matches:
        """The ids of the hashes within ``radius`` of one hash."""
        queries = to_array(hash, HASH_BYTES)
        if len(queries) != 1:
            raise IndexInputError("query takes one hash; use query_batch for several")
        return self.query_batch(queries, radius)[0]

    def query_batch(self, hashes: Values, radius: int = DEFAULT_RADIUS) -> list[Matches]:
        """One ``Matches`` per hash, in order. Faster per hash than ``query`` for many hashes."""
        queries = to_array(hashes, HASH_BYTES).view("<u8")
        which, ids, distances = self._search(queries, radius)
        bounds = np.searchsorted(which, np.arange(len(queries) + 1))
        return [Matches(ids[a:b], distances[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def query_variants(self, hashes: Values, radius: int = DEFAULT_RADIUS) -> Matches:
        """The union of the matches of several hashes of one image (such as its 8 dihedral
        variants), each id at its smallest distance to any of them."""
        which, ids, distances = self._search(to_array(hashes, HASH_BYTES).view("<u8"), radius)
        _, ids, distances = _nearest_first(*_best(np.zeros_like(which), ids, distances))
        return Matches(ids, distances)

    def _search(self, queries: np.ndarray, radius: int):
        """(query number, id, distance) of every match, one per (query, id), sorted."""
        if (
            not isinstance(radius, int | np.integer)
            or isinstance(radius, bool)
            or not 0 <= radius <= MAX_RADIUS
        ):
            raise IndexInputError(f"radius must be an integer from 0 to {MAX_RADIUS}")
        found = [segment.search(queries, int(radius)) for segment in self._segments if segment.live]
        found.append((np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint16)))
        return _nearest_first(*_best(*(np.concatenate(part) for part in zip(*found, strict=True))))

    def save(self, path: str | PathLike) -> None:
        """Write the index to one file (atomically); ``load`` maps it back."""
        with self._lock:
            arrays = {}
            for i, segment in enumerate(self._segments):
                for name in ("words", "ids", "perm", "offsets", "removed"):
                    arrays[f"{i}.{name}"] = getattr(segment, name)
            meta = {"fields": [segment.fields for segment in self._segments]}
            storage.save(path, "pdq", meta, arrays)

    @classmethod
    def load(cls, path: str | PathLike, *, delta_limit: int = 1 << 18) -> "PDQIndex":
        """An index mapped read-only from a file written by ``save``; additions and removals stay
        in memory until the next ``save``."""
        meta, arrays = storage.load(path, "pdq")
        index = cls(delta_limit=delta_limit)
        try:
            segments = tuple(_segment_from(arrays, i, fields) for i, fields in enumerate(meta["fields"]))
        except (KeyError, TypeError, ValueError) as error:
            raise IndexFileError(f"damaged PDQ index file: {error}") from error
        if len(segments) != 3:
            raise IndexFileError("damaged PDQ index file: expected 3 segments")
        index._segments = segments
        return index


def _rows(hashes: Values, ids) -> tuple[np.ndarray, np.ndarray]:
    words = to_array(hashes, HASH_BYTES).view("<u8")
    if len(words) >= 1 << 32:
        raise IndexInputError("an index holds fewer than 2**32 hashes")
    return words, to_ids(ids, len(words))


def _join(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _empty() -> Segment:
    return Segment.build(np.empty((0, 4), "<u8"), np.empty(0, np.int64))


def _best(which, ids, distances):
    """Keep the smallest distance of each (query, id)."""
    order = np.lexsort((distances, ids, which))
    which, ids, distances = which[order], ids[order], distances[order]
    first = np.ones(len(ids), bool)
    first[1:] = (which[1:] != which[:-1]) | (ids[1:] != ids[:-1])
    return which[first], ids[first], distances[first]


def _nearest_first(which, ids, distances):
    order = np.lexsort((ids, distances, which))
    return which[order], ids[order], distances[order]


def _segment_from(arrays: dict[str, np.ndarray], i: int, fields: int) -> Segment:
    """A segment from the arrays of a saved index, after checking they fit together."""

    def array(name, dtype, shape):
        value = arrays[f"{i}.{name}"]
        if value.dtype != np.dtype(dtype) or value.shape != shape:
            raise ValueError(f"segment {i} has a malformed {name} array")
        return value

    if fields not in (0, 3, 4):
        raise ValueError(f"segment {i} has an unknown layout")
    bits = layout(fields).bits
    n = len(arrays[f"{i}.ids"])
    offsets = array("offsets", np.uint32, (sum((1 << b) + 1 for b in bits),))
    return Segment(
        array("words", "<u8", (n, 4)),
        array("ids", np.int64, (n,)),
        fields,
        array("perm", np.uint32, (len(bits) * n,)),
        offsets,
        np.array(array("removed", bool, (n,))),  # a writable copy: removals change it
    )
