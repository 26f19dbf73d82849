"""What other apps and the views call to curate banks and match against them.

The whole interface::

    allowed_bank_ids(user)                   banks a user's role or account may match against
    visible_banks(user)                      banks a staff user may see and curate
    save_bank(bank, match_accounts=, by=)    create or change a bank (administrators)
    pending_entries(user), pending_imports(user), confirmations_required()   the confirmation queue
    propose_entry(bank, signal_type=, value=, classification=, by=)   -> BankEntry
    confirm_entry(entry, by=)                -> BankEntry (active once enough seniors confirmed)
    disable_entry(entry, by=, reason=)       -> BankEntry
    import_entries(bank, data, fmt=, by=, classification=)           -> ImportBatch
    confirm_import(batch, by=)               -> ImportBatch
    export_bank(bank, fmt=, passphrase=, by=)                        -> (file name, encrypted bytes)
    hash_upload(data)                        -> Hashes: every signal of a picture or video
    match(items, user=)                      -> [ItemResult], one per {signal type: value} item

Every function checks the caller's permission and, per object, that the bank is one the caller
may see; refusals raise a ``BankError`` subclass and are audited as denied. Every change is
audited inside its own transaction, never with a hash value in the detail. Which signal types a
bank holds, and how each is validated, hashed and matched, comes from the signal registry
(``openmnr.core.signals``, through ``models.signal_types``).

Four eyes. In a bank whose purpose needs confirmation (confirmed CSAM), an entry is proposed
pending and becomes active, and matchable, once ``BANKS_CONFIRMATIONS_REQUIRED`` different senior
analysts other than the proposer have confirmed it. An import into such a bank follows the same
rule for the whole file: its entries stay pending until that many seniors other than the importer
confirm the import. There is no exception for lists from trusted partners: their assessment is
outside our audit trail, so a partner's list goes into a bank of purpose "partner list", where it
is matched at once under its own action class, and only reaches "confirmed CSAM" through four eyes.
"""

import io
from dataclasses import dataclass, field
from itertools import batched
from operator import itemgetter

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from openmnr.accounts.roles import roles_of
from openmnr.audit import service as audit
from openmnr.core import lists, signals
from openmnr.core.signals import SignalError, UnknownSignalType

from . import changes, crypto
from .matcher import get_matcher
from .models import ACTION_ORDER, Bank, BankEntry, Classification, Confirmation, ImportBatch, signal_types

IMPORT_CHUNK = 50_000


class BankError(Exception):
    """Base of every refusal of this module; the message is safe to show to the caller."""


class NotAllowed(BankError):
    """The caller lacks the permission, or may not see this bank."""


class FourEyesViolation(BankError):
    """A confirmation that would break the four-eyes rule (own proposal, or a second time)."""


class WrongState(BankError):
    """The entry or import is not in a state where this action applies."""


class InvalidInput(BankError):
    """A value, classification, format or file that cannot be accepted."""


class DuplicateEntry(InvalidInput):
    """The bank already holds this value."""


# --- who may see what -----------------------------------------------------------------------


def allowed_bank_ids(user) -> set[int]:
    """Banks whose match_roles include one of the user's roles, or that list the user's account.

    For API keys pass the key's owner: a key acts with its owner's role and account.
    """
    roles = set(roles_of(user))
    by_role = {pk for pk, names in Bank.objects.values_list("pk", "match_roles") if roles & set(names)}
    by_account = Bank.match_accounts.through.objects.filter(user_id=user.pk).values_list("bank_id", flat=True)
    return by_role | set(by_account)


def visible_banks(user):
    """The banks a staff user may see: all of them for administrators, else those they may match."""
    if user.has_perm("banks.manage_banks"):
        return Bank.objects.all()
    return Bank.objects.filter(pk__in=allowed_bank_ids(user))


def _require(user, permission: str, bank: Bank | None = None) -> None:
    if not user.has_perm(permission):
        raise NotAllowed("your role may not do that")
    if bank is not None and not visible_banks(user).filter(pk=bank.pk).exists():
        raise NotAllowed("you may not work on this bank")


def _audited_refusal(action: str, error: BankError, *, by, obj, request) -> None:
    """Record a refused action: "denied" for a permission or four-eyes refusal, else "failure"."""
    denied = isinstance(error, NotAllowed | FourEyesViolation)
    audit.record(
        action,
        request=request,
        actor=by,
        obj=obj,
        outcome=audit.DENIED if denied else audit.FAILURE,
        detail={"reason": type(error).__name__},
    )


def save_bank(bank: Bank, *, match_accounts, by, request=None) -> Bank:
    """Create or change a bank (its fields already set by the caller) and who may match it."""
    try:
        _require(by, "banks.manage_banks")
    except BankError as error:
        _audited_refusal("bank.save", error, by=by, obj=bank if bank.pk else None, request=request)
        raise
    with transaction.atomic():
        created = bank.pk is None
        if created:
            bank.created_by = by
        bank.save()
        bank.match_accounts.set(match_accounts)
        audit.record(
            "bank.create" if created else "bank.change",
            request=request,
            actor=by,
            obj=bank,
            detail={
                "purpose": bank.purpose,
                "enabled": bank.enabled,
                "match_roles": sorted(bank.match_roles),
                "match_accounts": sorted(user.get_username() for user in match_accounts),
            },
        )
    return bank


# --- proposing, confirming, disabling ---------------------------------------------------------


def _record(signal_type: str, value: str, classification: str, category: str, quality, source_ref: str):
    """Check an entry's fields with the same rules as a hash list, so any entry can be exported.

    For vpdq ``value`` is the frames text; the record holds it in canonical form as ``frames`` and
    its SHA-256 as ``value``, the entry's identity (for any signal type whose values are longer
    than a key)."""
    if classification not in Classification.values:
        raise InvalidInput(f"classification must be one of {', '.join(Classification.values)}")
    types = signal_types()
    if signal_type not in types:
        raise InvalidInput(f"a bank holds {', '.join(types)} signals")
    whole = types[signal_type].digits is None
    try:
        return lists.HashRecord(
            signal_type,
            None if whole else value.strip(),
            quality,
            _classification_text(classification, category),
            source_ref or None,
            value if whole else None,
        )
    except SignalError as error:
        raise InvalidInput(error.reason) from None


def _classification_text(classification: str, category: str) -> str:
    return f"{classification}:{category}" if category else classification


def _parse_classification(text: str | None, default: tuple[str, str]) -> tuple[str, str]:
    if text is None:
        return default
    classification, _, category = text.partition(":")
    if classification not in Classification.values:
        raise InvalidInput(
            f"classification must be one of {', '.join(Classification.values)}, optionally followed by "
            ":category"
        )
    return classification, category[:64]


def propose_entry(
    bank: Bank,
    *,
    signal_type: str,
    value: str,
    classification: str,
    by,
    category: str = "",
    quality: int | None = None,
    source_ref: str = "",
    request=None,
) -> BankEntry:
    """Add a value to a bank: pending if the bank needs confirmation, else active at once."""
    try:
        _require(by, "banks.propose_entry", bank)
        record = _record(signal_type, value, classification, category, quality, source_ref)
        with transaction.atomic():
            if BankEntry.objects.filter(bank=bank, signal_type=signal_type, value=record.value).exists():
                raise DuplicateEntry("this bank already holds that value")
            entry = BankEntry.objects.create(
                bank=bank,
                signal_type=signal_type,
                value=record.value,
                frames=record.frames or "",
                quality=quality,
                classification=classification,
                category=category,
                status=BankEntry.Status.PENDING,
                proposed_by=by,
                source_ref=source_ref,
            )
            if not bank.needs_confirmation:
                _activate(entry)
            audit.record(
                "bank_entry.propose",
                request=request,
                actor=by,
                obj=entry,
                detail={"bank": bank.pk, "signal_type": signal_type, "status": entry.status},
            )
            return entry
    except BankError as error:
        _audited_refusal("bank_entry.propose", error, by=by, obj=bank, request=request)
        raise


def _activate(entry: BankEntry) -> None:
    entry.status, entry.activated_at = BankEntry.Status.ACTIVE, timezone.now()
    entry.save(update_fields=["status", "activated_at"])
    changes.entry_added(entry)


def confirmations_required() -> int:
    return settings.BANKS_CONFIRMATIONS_REQUIRED


def confirm_entry(entry: BankEntry, *, by, request=None) -> BankEntry:
    """One senior analyst's confirmation; the entry becomes active with the last one needed."""
    try:
        with transaction.atomic():
            entry = BankEntry.objects.select_for_update().select_related("bank").get(pk=entry.pk)
            _require(by, "banks.confirm_entry", entry.bank)
            if entry.status != BankEntry.Status.PENDING:
                raise WrongState("only an entry awaiting confirmation can be confirmed")
            if entry.batch_id is not None:
                raise WrongState("this entry came with an import: confirm the import as a whole")
            if entry.proposed_by_id == by.pk:
                raise FourEyesViolation("nobody confirms their own proposal")
            try:
                with transaction.atomic():
                    Confirmation.objects.create(entry=entry, confirmed_by=by)
            except IntegrityError:
                raise FourEyesViolation("you have already confirmed this entry") from None
            count = entry.confirmations.count()
            if count >= confirmations_required():
                _activate(entry)
            audit.record(
                "bank_entry.confirm",
                request=request,
                actor=by,
                obj=entry,
                detail={"confirmations": count, "required": confirmations_required(), "status": entry.status},
            )
            return entry
    except BankError as error:
        _audited_refusal("bank_entry.confirm", error, by=by, obj=entry, request=request)
        raise


def disable_entry(entry: BankEntry, *, by, reason: str, request=None) -> BankEntry:
    """Take an entry out of matching for good (it stays in the bank for the record)."""
    try:
        with transaction.atomic():
            entry = BankEntry.objects.select_for_update().select_related("bank").get(pk=entry.pk)
            _require(by, "banks.disable_entry", entry.bank)
            reason = reason.strip()
            if not reason:
                raise InvalidInput("give a reason for disabling the entry")
            if entry.status == BankEntry.Status.DISABLED:
                raise WrongState("the entry is already disabled")
            was_active = entry.status == BankEntry.Status.ACTIVE
            entry.status, entry.disabled_at, entry.disabled_by = BankEntry.Status.DISABLED, timezone.now(), by
            entry.disable_reason = reason[:500]
            entry.save(update_fields=["status", "disabled_at", "disabled_by", "disable_reason"])
            if was_active:
                changes.entry_disabled(entry)
            audit.record(
                "bank_entry.disable",
                request=request,
                actor=by,
                obj=entry,
                detail={"was_active": was_active, "reason": entry.disable_reason},
            )
            return entry
    except BankError as error:
        _audited_refusal("bank_entry.disable", error, by=by, obj=entry, request=request)
        raise


def pending_entries(user):
    """Entries (proposed one by one) awaiting confirmation in banks the user may see, oldest first."""
    return (
        BankEntry.objects.filter(
            status=BankEntry.Status.PENDING, batch__isnull=True, bank__in=visible_banks(user)
        )
        .select_related("bank", "proposed_by")
        .order_by("created_at", "pk")
    )


def pending_imports(user):
    """Imports awaiting confirmation (only imports into banks that need it wait), oldest first."""
    return (
        ImportBatch.objects.filter(activated_at__isnull=True, added__gt=0, bank__in=visible_banks(user))
        .select_related("bank", "imported_by")
        .order_by("imported_at", "pk")
    )


# --- import and export --------------------------------------------------------------------------


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
    try:
        _require(by, "banks.import_entries", bank)
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
    except BankError as error:
        _audited_refusal("bank.import", error, by=by, obj=bank, request=request)
        raise


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
                classification, category = _parse_classification(record.classification, default)
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
    from .tasks import write_snapshot

    write_snapshot.enqueue()


def confirm_import(batch: ImportBatch, *, by, request=None) -> ImportBatch:
    """One senior analyst's confirmation of a whole import into a bank that needs confirmation."""
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("bank").get(pk=batch.pk)
            _require(by, "banks.confirm_entry", batch.bank)
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
            if count >= confirmations_required():
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
                detail={"batch": batch.pk, "confirmations": count, "required": confirmations_required()},
            )
            return batch
    except BankError as error:
        _audited_refusal("bank.import_confirm", error, by=by, obj=batch.bank, request=request)
        raise


def export_bank(bank: Bank, *, fmt: str, passphrase: str, by, request=None) -> tuple[str, bytes]:
    """The bank's active entries as a hash list in ``fmt``, encrypted with ``passphrase``
    (see crypto.py for the format). Returns a file name and the encrypted bytes."""
    try:
        _require(by, "banks.export_bank", bank)
        if fmt not in lists.WRITERS:
            raise InvalidInput(f"the format must be one of {', '.join(lists.WRITERS)}")
        entries = bank.entries.filter(status=BankEntry.Status.ACTIVE).order_by("pk")
        records = (
            lists.HashRecord(
                e.signal_type,
                e.value,
                e.quality,
                _classification_text(e.classification, e.category),
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
    except BankError as error:
        _audited_refusal("bank.export", error, by=by, obj=bank, request=request)
        raise


# --- hashing and matching ----------------------------------------------------------------------


def thresholds() -> dict[str, int]:
    """Match thresholds that differ from the signal types' own defaults: PDQ's radius is a
    setting (``OPENMNR_BANKS_PDQ_RADIUS``)."""
    return {"pdq": settings.BANKS_PDQ_RADIUS}


def hash_upload(data: bytes) -> signals.Hashes:
    """Every signal of an uploaded picture or video (``signals.hash_content``: a picture gets PDQ
    with its quality, MD5 and SHA-256; a video vPDQ, MD5 and SHA-256). Raises
    ``openmnr.core.media.MediaError`` subclasses for content that cannot be hashed; nothing is
    stored."""
    limits = signals.Limits(isolate=settings.BANKS_ISOLATE_DECODE)
    return signals.hash_content(data, limits=limits).raise_for_error()


def upload_signals(data: bytes) -> dict[str, str]:
    """The signals of an uploaded file worth matching: all of them but a hash of low quality (a
    flat picture's PDQ matches too much to act on). Raises what ``hash_upload`` raises."""
    return {name: hashed.value for name, hashed in hash_upload(data).items() if not hashed.low_quality}


@dataclass(frozen=True)
class MatchDetail:
    """One matching entry, for staff callers only."""

    bank_id: int
    bank: str
    purpose: str
    entry_id: int
    signal_type: str
    distance: int
    classification: str
    category: str
    # For a value made of parts (vPDQ): the share (%) of the item's good frames found in the
    # entry's, and the reverse.
    query_match_percent: int | None = None
    entry_match_percent: int | None = None


@dataclass(frozen=True)
class ItemResult:
    matches: list[MatchDetail] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    @property
    def action(self) -> str | None:
        """The purpose of the most serious bank matched (see models.ACTION_ORDER), or None."""
        purposes = {m.purpose for m in self.matches}
        return next((p.value for p in ACTION_ORDER if p in purposes), None)


def _validate_signals(item: dict[str, str | None]) -> dict[str, str]:
    """Normalise one item's values; raise InvalidInput naming the signal type (never the value)."""
    types = signal_types()
    clean = {}
    for name, value in item.items():
        if value is None:
            continue
        signal = types.get(name)
        if signal is None:
            raise InvalidInput(f"unknown signal type {name!r}; use {', '.join(types)}")
        if signal.max_length is not None and len(value) > signal.max_length:
            raise InvalidInput(f"{name}: at most {signal.max_length:,} characters")
        try:
            clean[name] = signal.validate(value)
        except SignalError as error:
            raise InvalidInput(str(error)) from None
    if not clean:
        raise InvalidInput(f"give at least one of {', '.join(types)}")
    return clean


def match(items: list[dict[str, str | None]], *, user, request=None) -> list[ItemResult]:
    """Match each item ({signal type: value}) against the enabled banks the user may match.

    Returns one ``ItemResult`` per item, in order. Audited with counts only: neither the values
    nor what matched is recorded."""
    if not user.has_perm("banks.match_hashes"):
        raise NotAllowed("your role may not match")
    clean = []
    for position, item in enumerate(items):
        try:
            clean.append(_validate_signals(item))
        except InvalidInput as error:
            raise InvalidInput(f"item {position}: {error}") from None
    hits = get_matcher().lookup(clean, thresholds())
    allowed = allowed_bank_ids(user)
    entries = BankEntry.objects.filter(
        pk__in={hit.entry_id for item_hits in hits for hit in item_hits},
        status=BankEntry.Status.ACTIVE,
        bank__enabled=True,
        bank_id__in=allowed,
    ).select_related("bank")
    by_id = {entry.pk: entry for entry in entries}
    results = []
    for item_hits in hits:
        best: dict[int, MatchDetail] = {}
        for hit in sorted(item_hits, key=lambda h: h.distance):
            entry = by_id.get(hit.entry_id)
            if entry is None or entry.signal_type != hit.signal_type or hit.entry_id in best:
                continue
            best[hit.entry_id] = MatchDetail(
                entry.bank_id,
                entry.bank.name,
                entry.bank.purpose,
                entry.pk,
                hit.signal_type,
                hit.distance,
                entry.classification,
                entry.category,
                hit.query_percent,
                hit.entry_percent,
            )
        results.append(ItemResult(list(best.values())))
    audit.record(
        "banks.match",
        request=request,
        actor=user,
        detail={"items": len(results), "matched": sum(r.matched for r in results)},
    )
    return results
