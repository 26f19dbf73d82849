"""Appending to the index change log, the one feed every matcher process follows.

Call these inside the transaction that changes the entries, so the change and its log row commit
together. The ``IndexHead`` row is locked for the rest of that transaction, which gives gapless
sequence numbers in commit order: a reader that sees seq n has seen every seq below n. Take this
lock before writing the audit log (as the service functions do), never after, so that two writers
always take the two locks in the same order.

Each change also gets a random ``token``. A transaction that rolls back gives its sequence
numbers to the next writer; a matcher that applied the rolled-back change (it runs inside the
writer's transaction when the writer matches before committing) notices that the change at its
number now has another token, and reloads instead of skipping the new change.
"""

import secrets

from django.db import transaction

from .models import BankEntry, ImportBatch, IndexChange, IndexHead

#: Changes written by this process: its matcher catches up at once after one (read your writes).
local_writes = 0


def _append(**fields) -> IndexChange:
    global local_writes
    with transaction.atomic():
        head, _ = IndexHead.objects.select_for_update().get_or_create(pk=1)
        head.seq += 1
        head.token = secrets.token_hex(8)
        head.save(update_fields=["seq", "token"])
        local_writes += 1
        return IndexChange.objects.create(seq=head.seq, token=head.token, **fields)


def entry_added(entry: BankEntry) -> IndexChange:
    return _append(op=IndexChange.Op.ADD, entry_id=entry.pk, signal_type=entry.signal_type, value=entry.value)


def entry_disabled(entry: BankEntry) -> IndexChange:
    return _append(op=IndexChange.Op.DISABLE, entry_id=entry.pk, signal_type=entry.signal_type)


def batch_added(batch: ImportBatch) -> IndexChange:
    """One row for a whole import: matchers read its active entries from the database, so a
    million-entry import costs one log row, not a million."""
    return _append(op=IndexChange.Op.ADD_BATCH, batch_id=batch.pk)


def head() -> tuple[int, str, str]:
    """(last sequence number, its token, the epoch); (0, "", "") before the first change."""
    return IndexHead.objects.filter(pk=1).values_list("seq", "token", "epoch").first() or (0, "", "")
