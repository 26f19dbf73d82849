"""The PDQ index a monitor matches against: the banks' current snapshot, or a hash-list file.

The banks write their snapshot as ``<index dir>/current.json`` naming a folder that holds one
``<signal type>.idx`` file per type (``banks/snapshots.py``); a monitor maps ``pdq.idx`` read-only
(milliseconds, and the pages are shared by every monitor process on the machine). ``SnapshotIndex``
looks at ``current.json`` again every ``reload_seconds`` and maps the new snapshot when it changed,
so entries added to the banks reach running monitors without a restart. Ids are bank entry ids;
only the platform's database turns them into banks and classifications, so a monitor holds no
more than hashes and numbers.
"""

import json
import threading
import time
from pathlib import Path

from openmnr.core.index import PDQIndex
from openmnr.core.index.errors import MatchIndexError

from .frames import FrameHashes


class IndexUnavailable(Exception):
    """There is no readable snapshot (the banks have not written one yet, or the folder is wrong)."""


class SnapshotIndex:
    """The PDQ index of the banks' current snapshot, reloaded when the snapshot changes."""

    def __init__(self, index_dir: str | Path, reload_seconds: float = 30.0):
        self.index_dir = Path(index_dir)
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._checked = 0.0
        self._dir: str | None = None
        self._index: PDQIndex | None = None
        self.get()

    def get(self) -> PDQIndex:
        now = time.monotonic()
        if self._index is not None and now - self._checked < self.reload_seconds:
            return self._index
        with self._lock:
            self._checked = now
            try:
                current = json.loads((self.index_dir / "current.json").read_text())
                folder = str(current["dir"])
                if folder != self._dir:
                    self._index = PDQIndex.load(self.index_dir / folder / "pdq.idx")
                    self._dir = folder
            except (OSError, ValueError, KeyError, TypeError, MatchIndexError) as error:
                if self._index is None:
                    raise IndexUnavailable(
                        f"no readable index snapshot in {self.index_dir} ({type(error).__name__}); "
                        "write one with `openmnr manage bank_snapshot`"
                    ) from None
            return self._index


class FixedIndex:
    """An index given once (a hash-list file, a test)."""

    def __init__(self, index: PDQIndex):
        self._index = index

    def get(self) -> PDQIndex:
        return self._index


def index_from_list(path: str | Path) -> FixedIndex:
    """PDQ hashes from a hash-list file in the local format (``pdq <hex>`` or a bare hex per line);
    the ids are the line numbers, starting at 1."""
    from openmnr.core import lists

    hashes, ids = [], []
    with open(path, encoding="utf-8") as file:
        lines = [line if " " in line.strip() or not line.strip() else f"pdq {line}" for line in file]
    for number, record in enumerate(lists.read_local(lines), start=1):
        if record.signal_type == "pdq":
            hashes.append(record.value)
            ids.append(number)
    return FixedIndex(PDQIndex.build(hashes, ids) if hashes else PDQIndex())


def match(index: PDQIndex, hashed: FrameHashes, radius: int) -> dict[int, int]:
    """Entry id -> distance for every entry within ``radius`` of one of the frame's variants; a
    frame of low quality matches nothing."""
    if hashed.low_quality:
        return {}
    return dict(index.query_variants(list(hashed.hashes), radius))
