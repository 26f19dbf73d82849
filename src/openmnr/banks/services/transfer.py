"""Hash lists in and out: importing a file into a bank, confirming an import, exporting a bank.

An import is all or nothing (the first bad record stops it and nothing is added), skips values the
bank already holds and is audited with its counts. Into a bank that needs confirmation its entries
wait until ``confirmations_required()`` senior analysts other than the importer confirm the import
as a whole; elsewhere they are matched at once. Every export is encrypted (``crypto.py``). The
formats are ``openmnr.core.lists``'s, and a signal type a format cannot carry is refused by name.
"""

import io
from itertools import batched
from operator import itemgetter

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core import lists
from openmnr.core.signals import SignalError, UnknownSignalType

from .. import changes, crypto
from ..errors import FourEyesViolation, InvalidInput, WrongState, audited_refusal
from ..models import Bank, BankEntry, Classification, Confirmation, ImportBatch, signal_types
from .access import require
from .curation import classification_text, parse_classification

IMPORT_CHUNK = 50_000


def import_entries(
    bank: Bank,
    data: bytes,
    *,
    fmt: str,
    by,
    classification: str,
    category: str = "",
    source_ref: str = "",
    file_name: str = "",
    passphrase: str = "",
    request=None,
) -> ImportBatch:
    """Read a hash list (``fmt`` is a key of ``lists.READERS``; an OpenMNR-encrypted file needs
    its ``passphrase``) into a bank, all or nothing. Values already in the bank are skipped.
    ``classification``/``category`` apply to records that carry none. In a bank that needs
    confirmation the entries wait for ``confirm_import``; otherwise they are matched at once."""
    with audited_refusal("bank.import", by=by, obj=bank, request=request):
        require(by, "banks.import_entries", bank)
        if fmt not in lists.READERS:
            raise InvalidInput(f"the format must be one of {', '.join(lists.READERS)}")
        if classification not in Classification.values:
            raise InvalidInput(f"classification must be one of {', '.join(Classification.values)}")
        default = (classification, category)
        text = _plain_text(data, passphrase)
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                bank=bank, format=fmt, file_name=file_name[:200], source_ref=source_ref[:200], imported_by=by
            )
            now = timezone.now()
            try:
                records = lists.READERS[fmt](text)
                batch.read = _insert_records(bank, batch, records, default, by, source_ref, now)
            except SignalError as error:
                raise InvalidInput(str(error)) from None
            batch.added = batch.entries.count()
            if not bank.needs_confirmation and batch.added:
                _batch_activated(batch, now)
            batch.save(update_fields=["read", "added", "activated_at"])
            audit.record(
                "bank.import",
                request=request,
                actor=by,
                obj=bank,
                detail={"batch": batch.pk, "format": fmt, "read": batch.read, "added": batch.added},
            )
            return batch


def _plain_text(data: bytes, passphrase: str) -> io.StringIO:
    if crypto.is_encrypted(data):
        if not passphrase:
            raise InvalidInput("this file is encrypted: give its passphrase")
        try:
            data = crypto.decrypt(data, passphrase)
        except crypto.CryptoError as error:
            raise InvalidInput(str(error)) from None
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text") from None


_IMPORT_COLUMNS = (
    "signal_type, value, quality, classification, category, source_ref, frames, "
    "bank_id, batch_id, status, proposed_by_id, created_at, activated_at, disable_reason, disabled_at"
)


def _insert_records(bank, batch, records, default, by, source_ref, now) -> int:
    """Insert the records, chunk by chunk; return how many were read.

    Not bulk_create: building a model instance per row makes it several times slower, and a
    million-entry list must import within a minute (bench/bank_import.py measures both). Values
    already in the bank are skipped by ON CONFLICT DO NOTHING. On SQLite each chunk is sorted, so
    that the unique index on the values fills in order (a third or more faster on large lists),
    and inserted with one executemany. On PostgreSQL, where a statement per row is slow, the rows
    are copied (COPY) into a temporary table and inserted from it with one statement.
    """
    active = not bank.needs_confirmation
    now = connection.ops.adapt_datetimefield_value(now)
    status = BankEntry.Status.ACTIVE if active else BankEntry.Status.PENDING
    fixed = (bank.pk, batch.pk, status, by.pk, now, now if active else None, "", None)
    table = BankEntry._meta.db_table
    staged = connection.vendor == "postgresql"
    types = signal_types()
    read = 0
    with connection.cursor() as cursor:
        if staged:
            cursor.execute(
                f"CREATE TEMPORARY TABLE banks_import AS SELECT {_IMPORT_COLUMNS} FROM {table} WITH NO DATA"
            )
        for chunk in batched(records, IMPORT_CHUNK):
            rows = []
            for record in chunk:
                read += 1
                if record.signal_type not in types:
                    raise InvalidInput(f"record {read}: a bank holds {', '.join(types)} signals")
                classification, category = parse_classification(record.classification, default)
                source = (record.source or source_ref)[:200]
                rows.append(
                    (
                        record.signal_type,
                        record.value,
                        record.quality,
                        classification,
                        category,
                        source,
                        record.frames or "",
                    )
                )
            if staged:
                # One write of text per chunk: several times faster than psycopg's write_row.
                suffix = "\t".join(map(_copy_field, fixed))
                with cursor.copy(f"COPY banks_import ({_IMPORT_COLUMNS}) FROM STDIN") as copy:
                    copy.write(
                        "".join("\t".join(map(_copy_field, row)) + "\t" + suffix + "\n" for row in rows)
                    )
            else:
                rows.sort(key=itemgetter(0, 1))
                cursor.executemany(
                    f"INSERT INTO {table} ({_IMPORT_COLUMNS}) VALUES ({', '.join(['%s'] * 15)}) "
                    "ON CONFLICT DO NOTHING",
                    [row + fixed for row in rows],
                )
        if staged:
            cursor.execute(
                f"INSERT INTO {table} ({_IMPORT_COLUMNS}) SELECT {_IMPORT_COLUMNS} FROM banks_import "
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute("DROP TABLE banks_import")
    return read


def _copy_field(value) -> str:
    """A field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _batch_activated(batch: ImportBatch, at) -> None:
    """Record that the batch's entries are active and tell the matchers."""
    batch.activated_at = at
    changes.batch_added(batch)
    transaction.on_commit(_queue_snapshot)


def _queue_snapshot() -> None:
    # A fresh snapshot spares processes started later from replaying a large import.
    from ..tasks import write_snapshot

    write_snapshot.enqueue()


def confirm_import(batch: ImportBatch, *, by, request=None) -> ImportBatch:
    """One senior analyst's confirmation of a whole import into a bank that needs confirmation."""
    with audited_refusal("bank.import_confirm", by=by, obj=batch.bank, request=request), transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("bank").get(pk=batch.pk)
        require(by, "banks.confirm_entry", batch.bank)
        if batch.activated_at is not None or not batch.added:
            raise WrongState("only an import awaiting confirmation can be confirmed")
        if batch.imported_by_id == by.pk:
            raise FourEyesViolation("nobody confirms their own import")
        try:
            with transaction.atomic():
                Confirmation.objects.create(batch=batch, confirmed_by=by)
        except IntegrityError:
            raise FourEyesViolation("you have already confirmed this import") from None
        count = batch.confirmations.count()
        required = batch.bank.confirmations_needed
        if count >= required:
            now = timezone.now()
            batch.entries.filter(status=BankEntry.Status.PENDING).update(
                status=BankEntry.Status.ACTIVE, activated_at=now
            )
            _batch_activated(batch, now)
            batch.save(update_fields=["activated_at"])
        audit.record(
            "bank.import_confirm",
            request=request,
            actor=by,
            obj=batch.bank,
            detail={"batch": batch.pk, "confirmations": count, "required": required},
        )
        return batch


def export_bank(bank: Bank, *, fmt: str, passphrase: str, by, request=None) -> tuple[str, bytes]:
    """The bank's active entries as a hash list in ``fmt``, encrypted with ``passphrase``
    (see crypto.py for the format). Returns a file name and the encrypted bytes."""
    with audited_refusal("bank.export", by=by, obj=bank, request=request):
        require(by, "banks.export_bank", bank)
        if fmt not in lists.WRITERS:
            raise InvalidInput(f"the format must be one of {', '.join(lists.WRITERS)}")
        entries = bank.entries.filter(status=BankEntry.Status.ACTIVE).order_by("pk")
        records = (
            lists.HashRecord(
                e.signal_type,
                e.value,
                e.quality,
                classification_text(e.classification, e.category),
                e.source_ref or None,
                e.frames or None,
            )
            for e in entries.iterator(chunk_size=IMPORT_CHUNK)
        )
        text = io.StringIO()
        try:
            count = lists.WRITERS[fmt](records, text)
        except UnknownSignalType as error:
            raise InvalidInput(f"{error.reason}; export this bank as JSON Lines") from None
        try:
            sealed = crypto.encrypt(text.getvalue().encode(), passphrase)
        except crypto.CryptoError as error:
            raise InvalidInput(str(error)) from None
        audit.record(
            "bank.export", request=request, actor=by, obj=bank, detail={"format": fmt, "entries": count}
        )
        extension = {"local": "txt", "csv": "csv", "json": "jsonl"}[fmt]
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return f"bank-{bank.pk}-{stamp}.{extension}{crypto.SUFFIX}", sealed
