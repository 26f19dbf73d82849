"""The scan bundle: what a worker needs to match files, written once by ``openmnr scan`` and read
by every worker without the database.

A bundle is a directory:

- ``<signal type>.idx``: the banks' index files of one snapshot (``banks/snapshots.py``), linked
  (or copied) out of the snapshot folder so that the scan keeps them however long it runs; each
  worker memory-maps them, so the page cache holds one copy per host, not one per worker;
- ``entry_ids.npy`` and ``entry_banks.npy``: entry ids, sorted, and each one's bank number, of the active entries of enabled banks
  that the account running the scan may match against. An index hit on any other entry is dropped,
  so a scan never reports, nor lets anyone infer, a match in a bank its caller may not see;
- ``bundle.json``: the banks by number (name, purpose), the order in which purposes decide the
  action, the thresholds, the snapshot's sequence number.

The results carry the bank names, entry ids and distance of a match, never a stored value.

vPDQ: its index holds single frames, and a candidate is confirmed against the whole stored value
(``SignalType.verify``), which a bundle does not carry; a video is matched by its MD5 and SHA-256
and, through its vPDQ frames, reported as a candidate only (``match`` stays false, ``action`` is
``vpdq_candidate``) for an analyst to confirm on the platform.
"""

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openmnr.core import signals
from openmnr.core.signals import ContentType

BUNDLE_FILE = "bundle.json"
IDS_FILE, BANKS_FILE = "entry_ids.npy", "entry_banks.npy"


def write(
    folder: Path,
    *,
    snapshot_dir: Path,
    seq: int,
    banks: dict[int, dict],
    entries: np.ndarray,
    action_order: list[str],
    thresholds: dict[str, int],
) -> Path:
    """Write a bundle to `folder` from the index files in `snapshot_dir` and the visible entries
    (an (n, 2) int64 array of entry id and bank id)."""
    folder.mkdir(parents=True, exist_ok=True)
    for cls in signals.for_content(ContentType.PHOTO, ContentType.VIDEO):
        source, target = snapshot_dir / f"{cls.name}.idx", folder / f"{cls.name}.idx"
        if not source.exists():
            continue
        target.unlink(missing_ok=True)
        try:
            os.link(source, target)
        except OSError:  # another filesystem: copy
            target.write_bytes(source.read_bytes())
    entries = np.asarray(entries, dtype=np.int64).reshape(-1, 2)
    entries = entries[np.argsort(entries[:, 0], kind="stable")]
    np.save(folder / IDS_FILE, np.ascontiguousarray(entries[:, 0]))
    np.save(folder / BANKS_FILE, np.ascontiguousarray(entries[:, 1]))
    description = {
        "seq": seq,
        "banks": {str(number): bank for number, bank in banks.items()},
        "action_order": action_order,
        "thresholds": thresholds,
    }
    (folder / BUNDLE_FILE).write_text(json.dumps(description, indent=1))
    return folder


@dataclass
class Bundle:
    indexes: dict
    entry_ids: np.ndarray
    entry_banks: np.ndarray
    banks: dict[int, dict]
    action_order: list[str]
    thresholds: dict[str, int]

    def match(self, values: dict[str, str]) -> dict:
        """The match columns for one file's signal values (see `match_many`)."""
        return self.match_many([values])[0]

    def match_many(self, files: list[dict[str, str]]) -> list[dict]:
        """The match columns (``match``, ``action``, ``banks``, ``entries``, ``distance``) for the
        signal values of each file, looked up with one index query per signal type for them all:
        for small files a query per file would cost as much as hashing them."""
        found: list[dict[int, int]] = [{} for _ in files]
        candidates = [False] * len(files)
        for name, index in self.indexes.items():
            cls = signals.SIGNAL_TYPES.get(name)
            asked = [(number, values[name]) for number, values in enumerate(files) if values.get(name)]
            if cls is None or not asked:
                continue
            threshold = self.thresholds.get(name, cls.threshold)
            answers = cls.search(index, [cls.probes(value) for _number, value in asked], threshold)
            for (number, _value), hits in zip(asked, answers, strict=True):
                for hit in hits:
                    if not self._visible(hit.id):
                        continue
                    if cls.digits is None:  # needs verify() against the stored value: a candidate
                        candidates[number] = True
                        continue
                    found[number][hit.id] = min(hit.distance, found[number].get(hit.id, hit.distance))
        return [
            self._columns(entries, candidate) for entries, candidate in zip(found, candidates, strict=True)
        ]

    def _columns(self, found: dict[int, int], candidate: bool) -> dict:
        if not found:
            action = "vpdq_candidate" if candidate else None
            return {"match": False, "action": action, "banks": None, "entries": None, "distance": None}
        bank_numbers = sorted({self._bank_of(entry) for entry in found})
        purposes = {self.banks[number]["purpose"] for number in bank_numbers}
        action = next((p for p in self.action_order if p in purposes), sorted(purposes)[0])
        return {
            "match": True,
            "action": action,
            "banks": ";".join(self.banks[number]["name"] for number in bank_numbers),
            "entries": ";".join(str(entry) for entry in sorted(found)),
            "distance": min(found.values()),
        }

    def _position(self, entry_id: int) -> int:
        return int(np.searchsorted(self.entry_ids, entry_id))

    def _visible(self, entry_id: int) -> bool:
        at = self._position(entry_id)
        return at < len(self.entry_ids) and int(self.entry_ids[at]) == entry_id

    def _bank_of(self, entry_id: int) -> int:
        return int(self.entry_banks[self._position(entry_id)])


_loaded: dict[str, Bundle] = {}
_lock = threading.Lock()


def load(folder: str) -> Bundle:
    """The bundle in `folder`, loaded once per process (memory-mapped) and kept."""
    with _lock:
        bundle = _loaded.get(folder)
        if bundle is None:
            bundle = _loaded[folder] = _read(Path(folder))
        return bundle


def _read(folder: Path) -> Bundle:
    description = json.loads((folder / BUNDLE_FILE).read_text())
    indexes = {}
    for cls in signals.for_content(ContentType.PHOTO, ContentType.VIDEO):
        path = folder / f"{cls.name}.idx"
        if path.exists():
            indexes[cls.name] = cls.load_index(path)
    return Bundle(
        indexes=indexes,
        entry_ids=np.load(folder / IDS_FILE, mmap_mode="r"),
        entry_banks=np.load(folder / BANKS_FILE, mmap_mode="r"),
        banks={int(number): bank for number, bank in description["banks"].items()},
        action_order=list(description["action_order"]),
        thresholds={name: int(value) for name, value in description["thresholds"].items()},
    )
