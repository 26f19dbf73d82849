"""Entries one at a time: proposing, the four-eyes confirmation, disabling, and the queue.

An entry proposed for a bank that needs confirmation (confirmed CSAM) waits, unseen by any matcher,
until ``confirmations_required()`` different senior analysts other than the proposer have confirmed
it; in other banks it is active at once. Disabling takes an entry out of matching for good; it
stays in the bank for the record. Each step is checked, locked and audited in one transaction, and
every matcher learns of it through the change log (``changes.py``).
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core import lists, signals
from openmnr.core.robust import features
from openmnr.core.signals import SignalError

from .. import changes
from ..errors import DuplicateEntry, FourEyesViolation, InvalidInput, WrongState, audited_refusal
from ..models import BankEntry, Classification, Confirmation, EntryKeypoints, ImportBatch, signal_types
from .access import require, visible_banks


def confirmations_required() -> int:
    return settings.BANKS_CONFIRMATIONS_REQUIRED


def entry_record(
    signal_type: str, value: str, classification: str, category: str, quality, source_ref: str
) -> lists.HashRecord:
    """Check an entry's fields with the same rules as a hash list, so any entry can be exported.

    For a signal type whose values are longer than a key (vPDQ) ``value`` is the whole value; the
    record holds it in canonical form as ``frames`` and its identity as ``value``."""
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
            classification_text(classification, category),
            source_ref or None,
            value if whole else None,
        )
    except SignalError as error:
        raise InvalidInput(error.reason) from None


def classification_text(classification: str, category: str) -> str:
    """How a hash list writes an entry's classification: ``baseline`` or ``baseline:category``."""
    return f"{classification}:{category}" if category else classification


def parse_classification(text: str | None, default: tuple[str, str]) -> tuple[str, str]:
    """(classification, category) from a hash list's classification text, or ``default``."""
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
    bank,
    *,
    signal_type: str,
    value: str,
    classification: str,
    by,
    category: str = "",
    quality: int | None = None,
    source_ref: str = "",
    request=None,
    age_group: str = "",
    gender: str = "",
    flags: list[str] | None = None,
) -> BankEntry:
    """Add a value to a bank: pending if the bank needs confirmation, else active at once.
    `age_group`, `gender` and `flags` are what a hotline item matching it later takes over."""
    with audited_refusal("bank_entry.propose", by=by, obj=bank, request=request):
        require(by, "banks.propose_entry", bank)
        record = entry_record(signal_type, value, classification, category, quality, source_ref)
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
                age_group=age_group,
                gender=gender,
                flags=list(flags) if flags is not None else None,
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


def propose_picture(
    bank,
    data: bytes,
    *,
    classification: str,
    by,
    category: str = "",
    source_ref: str = "",
    request=None,
    age_group: str = "",
    gender: str = "",
    flags: list[str] | None = None,
) -> BankEntry:
    """Propose a picture to a bank by its PDQ hash (``propose_entry``), computed here from the
    picture (decoded in a child process with limits, as an upload is), and, when
    ``OPENMNR_MATCH_FEATURES`` is on, keep its local features beside the entry (``EntryKeypoints``)
    in the same transaction. The picture itself is not kept.

    Keypoints can be computed only from the picture: a hash typed in or imported has none, which
    is why this is the one way to add an entry the feature check can find. A picture too flat for
    a trustworthy PDQ hash is refused (``InvalidInput``): neither its hash nor its keypoints would
    identify it. Raises ``media.MediaError`` subclasses for content that cannot be decoded."""
    keypoints = settings.MATCH_FEATURES
    limits = signals.Limits(
        isolate=settings.BANKS_ISOLATE_DECODE, keypoints=features.BANK_POINTS if keypoints else 0
    )
    hashes = signals.hash_content(data, limits=limits, only=("pdq",)).raise_for_error()
    if "pdq" not in hashes:
        raise InvalidInput("only a picture can be proposed this way (a video: propose its vPDQ)")
    hashed = hashes["pdq"]
    if hashed.low_quality:
        raise InvalidInput("the picture is too flat for a PDQ hash to identify it")
    with transaction.atomic():
        entry = propose_entry(
            bank,
            signal_type="pdq",
            value=hashed.value,
            classification=classification,
            category=category,
            quality=hashed.quality,
            source_ref=source_ref,
            by=by,
            request=request,
            age_group=age_group,
            gender=gender,
            flags=flags,
        )
        if keypoints and hashed.keypoints:
            EntryKeypoints.objects.create(entry=entry, data=hashed.keypoints)
    return entry


def _activate(entry: BankEntry) -> None:
    entry.status, entry.activated_at = BankEntry.Status.ACTIVE, timezone.now()
    entry.save(update_fields=["status", "activated_at"])
    changes.entry_added(entry)


def confirm_entry(entry: BankEntry, *, by, request=None) -> BankEntry:
    """One senior analyst's confirmation; the entry becomes active with the last one needed."""
    with audited_refusal("bank_entry.confirm", by=by, obj=entry, request=request), transaction.atomic():
        entry = BankEntry.objects.select_for_update().select_related("bank").get(pk=entry.pk)
        require(by, "banks.confirm_entry", entry.bank)
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
        required = entry.bank.confirmations_needed
        if count >= required:
            _activate(entry)
        audit.record(
            "bank_entry.confirm",
            request=request,
            actor=by,
            obj=entry,
            detail={"confirmations": count, "required": required, "status": entry.status},
        )
        return entry


def disable_entry(entry: BankEntry, *, by, reason: str, request=None) -> BankEntry:
    """Take an entry out of matching for good (it stays in the bank for the record)."""
    with audited_refusal("bank_entry.disable", by=by, obj=entry, request=request), transaction.atomic():
        entry = BankEntry.objects.select_for_update().select_related("bank").get(pk=entry.pk)
        require(by, "banks.disable_entry", entry.bank)
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


def pending_entries(user):
    """Entries (proposed one by one) awaiting confirmation in banks the user may see, oldest first,
    each with ``confirmed``: how many confirmations it has."""
    return (
        BankEntry.objects.filter(
            status=BankEntry.Status.PENDING, batch__isnull=True, bank__in=visible_banks(user)
        )
        .select_related("bank", "proposed_by")
        .annotate(confirmed=Count("confirmations"))
        .order_by("created_at", "pk")
    )


def pending_imports(user):
    """Imports awaiting confirmation (only imports into banks that need it wait), oldest first,
    each with ``confirmed``: how many confirmations it has."""
    return (
        ImportBatch.objects.filter(activated_at__isnull=True, added__gt=0, bank__in=visible_banks(user))
        .select_related("bank", "imported_by")
        .annotate(confirmed=Count("confirmations"))
        .order_by("imported_at", "pk")
    )


def entry_assessments(entry_ids) -> dict[int, dict]:
    """{entry id: {"age_group", "gender", "flags"}} of the given entries, for a hotline item that
    matched them to take over; never a hash value."""
    rows = BankEntry.objects.filter(pk__in=list(entry_ids)).values("pk", "age_group", "gender", "flags")
    return {row.pop("pk"): row for row in rows}
