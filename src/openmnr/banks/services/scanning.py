"""The bundle a bulk scan matches against (``openmnr scan``): the index files of a fresh snapshot
and the entries the scanning account may match, written for workers that never see the database.

The account is the authority, as for the match API: only active entries of enabled banks open to
its role or account are in the bundle's entry table, and a worker drops every index hit outside it
(``openmnr.core.scan.index``). The index files themselves are the banks' snapshot as every web
process loads it, so they hold index keys of every bank: the bundle is to be kept like the
snapshot folder (on the platform's hosts or the scanning cluster's, readable only by the service
account), and its results, which carry bank names, entry ids and distances, never a value.
Writing one is audited with counts.
"""

from pathlib import Path

import numpy as np
from django.conf import settings

from openmnr.audit import services as audit
from openmnr.core.scan import index as scan_index

from ..errors import NotAllowed
from ..models import ACTION_ORDER, Bank, BankEntry
from ..snapshots import write_snapshot
from .access import allowed_bank_ids
from .matching import thresholds


def write_scan_bundle(folder: Path, *, user, request=None) -> dict:
    """Write the scan bundle for `user` into `folder`; return counts (banks, entries, seq)."""
    if not user.has_perm("banks.match_hashes"):
        raise NotAllowed("your role may not match against the banks")
    indices = write_snapshot()
    current = Path(settings.BANKS_INDEX_DIR)
    snapshot_dir = max(current.glob(f"snapshot-{indices.seq}-*"), key=lambda p: p.stat().st_mtime)
    allowed = allowed_bank_ids(user)
    banks = {
        pk: {"name": name, "purpose": purpose}
        for pk, name, purpose in Bank.objects.filter(pk__in=allowed, enabled=True).values_list(
            "pk", "name", "purpose"
        )
    }
    rows = BankEntry.objects.filter(status=BankEntry.Status.ACTIVE, bank_id__in=banks).values_list(
        "pk", "bank_id"
    )
    entries = np.fromiter(
        (value for row in rows.iterator(chunk_size=20_000) for value in row), dtype=np.int64
    )
    scan_index.write(
        Path(folder),
        snapshot_dir=snapshot_dir,
        seq=indices.seq,
        banks=banks,
        entries=entries.reshape(-1, 2),
        action_order=[str(purpose) for purpose in ACTION_ORDER],
        thresholds=thresholds(),
    )
    counts = {"banks": len(banks), "entries": len(entries) // 2, "seq": indices.seq}
    audit.record("banks.scan_bundle", request=request, actor=user, detail=counts)
    return counts
