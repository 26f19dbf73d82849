"""The match index of every signal type a bank holds, built from the database and saved as snapshots.

``Indices`` holds one index per signal type (the signal type's ``new_index``: a PDQ index, exact
indices for MD5 and SHA-256, and for vPDQ a PDQ index of the good frames of every video entry),
mapping values to bank entry ids, and the change-log position it reflects. ``build_from_database``
reads every active entry; a value longer than a key is indexed under the keys its signal type
derives from it (``index_keys``).

``write_snapshot`` builds the indices from the database and saves them under
``BANKS_INDEX_DIR/snapshot-<seq>-<random>/`` (one ``<signal type>.idx`` file per type) and then
points ``current.json`` at it (an atomic rename), so a loader sees a whole snapshot or the previous
one. A snapshot missing a type's file (written before that type existed) is not used:
``read_snapshot`` returns None and the caller builds from the database. The ``bank_snapshot``
command and a task queued after each import call it. The sequence number is read before the
entries, so a snapshot never misses a change; an entry activated while the snapshot is read may be
in it and be added again by the replay, which is harmless (an answer lists each entry once) and
gone at the next snapshot. Old snapshot folders are removed after an hour, and change-log rows a
snapshot covers are pruned after a day.
"""

import array
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from openmnr.core.index import IndexFileError
from openmnr.core.signals import SignalType

from . import changes
from .models import BankEntry, IndexChange, signal_types

log = logging.getLogger(__name__)

#: Snapshots other than the current one are removed once they are this old.
SNAPSHOT_KEEP_SECONDS = 3600
#: Change-log rows covered by a snapshot are pruned once they are this old; a process further
#: behind than that no longer finds its last change in the log and reloads the current snapshot.
CHANGES_KEEP = timedelta(days=1)


@dataclass
class Indices:
    """The indices of one snapshot or process, one per signal type, and the change-log position
    they reflect."""

    seq: int
    token: str
    epoch: str
    by_type: dict = field(default_factory=dict)

    def count(self) -> int:
        """Values indexed (a value added twice, see the module docstring, counts twice; a video
        counts once per frame it keeps in the index)."""
        return sum(len(index) for index in self.by_type.values())

    def __getitem__(self, signal_type: str):
        """The index of ``signal_type``, made empty when this process has none yet (a type
        registered after the indices were built)."""
        if signal_type not in self.by_type:
            cls = signal_types()[signal_type]
            self.by_type[signal_type] = cls.new_index(*Rows.empty(cls))
        return self.by_type[signal_type]

    def add(self, rows: "Rows") -> None:
        for signal_type in rows.types:
            values, ids = rows.arrays(signal_type)
            if len(ids):
                self[signal_type].add(values, ids)

    def remove(self, signal_type: str, entry_id: int) -> None:
        self[signal_type].remove([entry_id])


class Rows:
    """Index keys and entry ids gathered per signal type as raw bytes, so that a million rows read
    from the database cost tens of megabytes, not a million Python strings."""

    def __init__(self):
        self.types: dict[str, type[SignalType]] = signal_types()
        # Types whose values are longer than a key: indexed under the keys they derive.
        self._derived = {name for name, cls in self.types.items() if cls.digits is None}
        self.values = {name: bytearray() for name in self.types}
        self.ids = {name: array.array("q") for name in self.types}

    @staticmethod
    def empty(cls: type[SignalType]) -> tuple[np.ndarray, np.ndarray]:
        return np.empty((0, cls.key_bytes), np.uint8), np.empty(0, np.int64)

    def append(self, entry_id: int, signal_type: str, value: str, frames: str = "") -> None:
        """One entry's value; for a value longer than a key (``frames`` is its whole value) each
        key its signal type derives from it."""
        if signal_type in self._derived:
            keys = self.types[signal_type].index_keys(frames)
            self.values[signal_type] += b"".join(bytes.fromhex(key) for key in keys)
            self.ids[signal_type].extend([entry_id] * len(keys))
            return
        self.values[signal_type] += bytes.fromhex(value)
        self.ids[signal_type].append(entry_id)

    def extend(self, rows) -> None:
        """Append (id, signal type, value, frames) rows, such as ``_entry_rows``."""
        for entry_id, signal_type, value, frames in rows:
            self.append(entry_id, signal_type, value, frames)

    def arrays(self, signal_type: str) -> tuple[np.ndarray, np.ndarray]:
        size = self.types[signal_type].key_bytes
        values = np.frombuffer(bytes(self.values[signal_type]), np.uint8).reshape(-1, size)
        return values, np.frombuffer(self.ids[signal_type].tobytes(), np.int64)


def entry_rows(entries):
    return (
        entries.filter(status=BankEntry.Status.ACTIVE)
        .values_list("pk", "signal_type", "value", "frames")
        .iterator(chunk_size=20_000)
    )


def build_from_database() -> Indices:
    """Every active entry, read after the current sequence number (see the module docstring)."""
    seq, token, epoch = changes.head()
    rows = Rows()
    rows.extend(entry_rows(BankEntry.objects.all()))
    by_type = {name: cls.new_index(*rows.arrays(name)) for name, cls in rows.types.items()}
    return Indices(seq, token, epoch, by_type)


def write_snapshot(index_dir: Path | None = None, *, indices: Indices | None = None) -> Indices:
    """Save ``indices`` (by default a fresh build from the database) as the current snapshot,
    remove old snapshots and prune the change-log rows it covers; return what was saved."""
    index_dir = Path(index_dir or settings.BANKS_INDEX_DIR)
    if indices is None:
        indices = build_from_database()
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{indices.seq}-{secrets.token_hex(4)}"
    folder = index_dir / name
    folder.mkdir()
    for signal_type, index in indices.by_type.items():
        index.save(folder / f"{signal_type}.idx")
    current = {
        "seq": indices.seq,
        "token": indices.token,
        "epoch": indices.epoch,
        "dir": name,
        "entries": indices.count(),
    }
    pointer = index_dir / f".current.{os.getpid()}.tmp"
    pointer.write_text(json.dumps(current))
    os.replace(pointer, index_dir / "current.json")
    _remove_old_snapshots(index_dir, keep=name)
    # The row at the snapshot's own seq stays: loaders check its token.
    IndexChange.objects.filter(seq__lt=indices.seq, at__lt=timezone.now() - CHANGES_KEEP).delete()
    return indices


def current_snapshot(index_dir: Path) -> dict | None:
    """What ``current.json`` says of the current snapshot (seq, token, epoch, dir, entries), or
    None when there is none or it cannot be read."""
    try:
        current = json.loads((Path(index_dir) / "current.json").read_text())
    except (OSError, ValueError):
        return None
    return current if isinstance(current, dict) else None


def read_snapshot(index_dir: Path) -> Indices | None:
    """The current snapshot, memory-mapped, or None when there is none or it cannot be read."""
    try:
        current = json.loads((index_dir / "current.json").read_text())
        folder = index_dir / current["dir"]
        # A snapshot from before a signal type existed has no file for it: FileNotFoundError, so
        # a build from the database.
        by_type = {name: cls.load_index(folder / f"{name}.idx") for name, cls in signal_types().items()}
        return Indices(int(current["seq"]), str(current["token"]), str(current["epoch"]), by_type)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexFileError) as error:
        log.warning("cannot read the index snapshot in %s (%s); building from the database", index_dir, error)
        return None


def _remove_old_snapshots(index_dir: Path, keep: str) -> None:
    cutoff = time.time() - SNAPSHOT_KEEP_SECONDS
    for folder in index_dir.glob("snapshot-*"):
        if folder.name != keep and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
