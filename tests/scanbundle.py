"""A scan bundle made from files, without the database: the banks' index files of a few known
files, some of them in a bank the scanning account may not see."""

from pathlib import Path

import numpy as np

from openmnr.core import signals
from openmnr.core.scan import index as scan_index
from openmnr.core.signals import ContentType

VISIBLE_BANK, HIDDEN_BANK = 1, 2


def make_bundle(folder: Path, visible: list[Path], hidden: list[Path] = ()) -> Path:
    """Entries 100, 101... for `visible` (bank "Known", confirmed CSAM), then `hidden` (a bank the
    account may not match: in the index, not in the bundle's entry table)."""
    snapshot = folder / "snapshot"
    snapshot.mkdir(parents=True, exist_ok=True)
    keys: dict[str, tuple[list[bytes], list[int]]] = {
        cls.name: ([], []) for cls in signals.for_content(ContentType.PHOTO, ContentType.VIDEO)
    }
    table = []
    for number, path in enumerate([*visible, *hidden]):
        entry = 100 + number
        hashes = signals.hash_path(path)
        for name in ("pdq", "md5"):
            keys[name][0].append(bytes.fromhex(hashes[name].value))
            keys[name][1].append(entry)
        table.append((entry, VISIBLE_BANK if number < len(visible) else HIDDEN_BANK))
    for name, (values, ids) in keys.items():
        cls = signals.get(name)
        array = np.frombuffer(b"".join(values), np.uint8).reshape(-1, cls.key_bytes)
        cls.new_index(array, np.array(ids, np.int64)).save(snapshot / f"{name}.idx")
    return scan_index.write(
        folder / "bundle",
        snapshot_dir=snapshot,
        seq=1,
        banks={VISIBLE_BANK: {"name": "Known", "purpose": "confirmed_csam"}},
        entries=np.array([row for row in table if row[1] == VISIBLE_BANK], np.int64),
        action_order=["confirmed_csam", "partner_list", "survivor_reported", "known_non_illegal"],
        thresholds={"pdq": 31},
    )
