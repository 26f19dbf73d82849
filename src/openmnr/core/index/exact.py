"""The exact index for MD5 and SHA-256: which ids hold a given digest.

Usage::

    index = ExactIndex.build(16, digests, ids)  # 16-byte MD5 or 32-byte SHA-256; hex, bytes or uint8 array
    index.query(md5_hex)                        # int64 array of ids, ascending
    index.query_batch(digests)                  # one such array per digest
    index.add(digests, ids); index.remove([entry_id])
    index.save(path); ExactIndex.load(path)     # load maps the file read-only

Digests are kept sorted as fixed-width byte strings (numpy's "S" dtype, which compares all bytes)
and found by binary search, so 10M SHA-256 digests with their ids take about 400 MB, far less than
a dict. As in ``PDQIndex``, additions go to a small sorted delta, rebuilt on each ``add`` and merged
into main past ``delta_limit`` entries, and removals flag rows. Each segment also keeps its row
numbers in id order, so ``remove`` is a binary search too, not a scan. Queries take no lock;
writers serialise on one.
"""

import threading
from os import PathLike

import numpy as np

from openmnr.core.index import storage
from openmnr.core.index.errors import IndexFileError, IndexInputError
from openmnr.core.index.hashes import Values, to_array, to_ids
from openmnr.core.index.mih import concat_ranges

DIGEST_SIZES = {"md5": 16, "sha256": 32}


class _Sorted:
    """Digests in ascending order with their ids; only ``removed`` changes after construction.

    ``by_id`` lists the row numbers in id order (the ``sorter`` of ``np.searchsorted``).
    """

    def __init__(self, digests: np.ndarray, ids: np.ndarray, by_id: np.ndarray, removed=None):
        self.digests, self.ids, self.by_id = digests, ids, by_id
        self.removed = np.zeros(len(ids), bool) if removed is None else removed
        self.live = len(ids) - int(np.count_nonzero(self.removed))

    @classmethod
    def build(cls, digests: np.ndarray, ids: np.ndarray) -> "_Sorted":
        order = np.argsort(digests, kind="stable")
        ids = ids[order]
        return cls(digests[order], ids, np.argsort(ids, kind="stable"))

    def __len__(self) -> int:
        return len(self.ids)

    def live_rows(self) -> tuple[np.ndarray, np.ndarray]:
        keep = ~self.removed
        return self.digests[keep], self.ids[keep]

    def lookup(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query number, id) of every live row equal to a query."""
        first = np.searchsorted(self.digests, queries, "left")
        counts = np.searchsorted(self.digests, queries, "right") - first
        rows = concat_ranges(first, counts)
        which = np.repeat(np.arange(len(queries)), counts)
        keep = ~self.removed[rows]
        return which[keep], self.ids[rows[keep]]

    def remove(self, ids: np.ndarray) -> int:
        """Flag every row holding one of ``ids`` (sorted, unique) as removed; return how many."""
        first = np.searchsorted(self.ids, ids, "left", sorter=self.by_id)
        counts = np.searchsorted(self.ids, ids, "right", sorter=self.by_id) - first
        rows = self.by_id[concat_ranges(first, counts)]
        rows = rows[~self.removed[rows]]
        self.removed[rows] = True
        self.live -= len(rows)
        return len(rows)


class ExactIndex:
    """An exact-match index of fixed-size digests; see the module docstring."""

    def __init__(self, digest_size: int, *, delta_limit: int = 1 << 18):
        """An empty index of ``digest_size``-byte digests (``DIGEST_SIZES["md5"]`` or ``["sha256"]``)."""
        if digest_size not in DIGEST_SIZES.values():
            raise IndexInputError(f"digest size must be one of {sorted(DIGEST_SIZES.values())}")
        self.digest_size = digest_size
        self.delta_limit = delta_limit
        self._segments = (self._empty(), self._empty())
        self._lock = threading.Lock()

    @classmethod
    def build(cls, digest_size: int, digests: Values, ids, *, delta_limit: int = 1 << 18) -> "ExactIndex":
        index = cls(digest_size, delta_limit=delta_limit)
        index._segments = (_Sorted.build(*index._rows(digests, ids)), index._empty())
        return index

    def __len__(self) -> int:
        return sum(segment.live for segment in self._segments)

    def add(self, digests: Values, ids) -> None:
        digests, ids = self._rows(digests, ids)
        with self._lock:
            main, delta = self._segments
            delta = _Sorted.build(*_join(delta.live_rows(), (digests, ids)))
            if len(delta) > self.delta_limit:
                main, delta = _Sorted.build(*_join(main.live_rows(), delta.live_rows())), self._empty()
            self._segments = (main, delta)

    def remove(self, ids) -> int:
        """Remove every digest stored under any of ``ids``; return how many were removed."""
        ids = np.unique(to_ids(ids))
        with self._lock:
            return sum(segment.remove(ids) for segment in self._segments)

    def query(self, digest: str | bytes | np.ndarray) -> np.ndarray:
        """The ids stored with this digest, ascending (empty when none)."""
        queries = to_array(digest, self.digest_size)
        if len(queries) != 1:
            raise IndexInputError("query takes one digest; use query_batch for several")
        return self.query_batch(queries)[0]

    def query_batch(self, digests: Values) -> list[np.ndarray]:
        queries = to_array(digests, self.digest_size).view(f"S{self.digest_size}").ravel()
        found = [segment.lookup(queries) for segment in self._segments]
        which, ids = (np.concatenate(part) for part in zip(*found, strict=True))
        order = np.lexsort((ids, which))
        which, ids = which[order], ids[order]
        unique = np.ones(len(ids), bool)
        unique[1:] = (which[1:] != which[:-1]) | (ids[1:] != ids[:-1])
        which, ids = which[unique], ids[unique]
        bounds = np.searchsorted(which, np.arange(len(queries) + 1))
        return [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def save(self, path: str | PathLike) -> None:
        with self._lock:
            arrays = {}
            for i, segment in enumerate(self._segments):
                for name in ("digests", "ids", "by_id", "removed"):
                    arrays[f"{i}.{name}"] = getattr(segment, name)
            storage.save(path, "exact", {"digest_size": self.digest_size}, arrays)

    @classmethod
    def load(cls, path: str | PathLike, *, delta_limit: int = 1 << 18) -> "ExactIndex":
        meta, arrays = storage.load(path, "exact")
        try:
            index = cls(meta["digest_size"], delta_limit=delta_limit)
            segments = []
            for i in range(2):
                digests, ids, by_id, removed = (
                    arrays[f"{i}.{name}"] for name in ("digests", "ids", "by_id", "removed")
                )
                n = len(ids)
                if (
                    digests.dtype != np.dtype(f"S{index.digest_size}")
                    or ids.dtype != np.int64
                    or by_id.dtype != np.intp
                    or removed.dtype != bool
                    or not digests.shape == ids.shape == by_id.shape == removed.shape == (n,)
                ):
                    raise ValueError(f"segment {i} has malformed arrays")
                segments.append(_Sorted(digests, ids, by_id, np.array(removed)))
        except (KeyError, TypeError, ValueError, IndexInputError) as error:
            raise IndexFileError(f"damaged exact index file: {error}") from error
        index._segments = tuple(segments)
        return index

    def _rows(self, digests: Values, ids) -> tuple[np.ndarray, np.ndarray]:
        digests = to_array(digests, self.digest_size).view(f"S{self.digest_size}").ravel()
        return digests, to_ids(ids, len(digests))

    def _empty(self) -> _Sorted:
        return _Sorted(np.empty(0, f"S{self.digest_size}"), np.empty(0, np.int64), np.empty(0, np.intp))


def _join(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
