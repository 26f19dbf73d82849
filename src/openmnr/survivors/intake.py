"""Receiving hashes from the Take it down page: a new case, or more pictures for an open one.

Everything a submission does commits in one transaction: the case (or the case's lock), its
items and their hashes, the bank entries of the active items, the encrypted contact, the tally and
the audit event. The answer (with the new code) goes out only once that transaction committed.
The person's address is neither stored nor audited (``client_address=False``), and no hash value
goes into the audit detail.

The code is the hotline's tracking code (hotline.services: 95 random bits, a check character);
only its digest is stored (models.code_digest), so it is shown once, in the answer.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from openmnr.audit import services as audit
from openmnr.banks import services as banks
from openmnr.hotline import services as hotline

from . import activity, contact, limits, screening
from .errors import CaseNotOpen, InvalidSubmission, UnknownCode
from .models import Case, Contact, Item, Signal, Tally, code_digest
from .states import CaseState, HoldReason, ItemState


@dataclass(frozen=True)
class ItemReceipt:
    kind: str
    state: str
    pdq_refused: bool


@dataclass(frozen=True)
class Receipt:
    case_id: int
    code: str  # as shown (groups of four); empty when adding to a case, whose code the person has
    items: list[ItemReceipt]
    duplicates: int  # pictures already in the case, skipped


def open_case(raw_items, *, pictured: bool, under_18: bool, email: str = "", request=None) -> Receipt:
    """A new case from the page's JSON: the items, the two confirmations, an optional address."""
    if not (pictured and under_18):
        raise InvalidSubmission(
            _(
                "This service is for pictures and videos of you, taken when you were under 18. Please confirm both."
            )
        )
    email = _clean_email(email)
    items = screening.parse(raw_items)
    limits.submission(request, new_case=True)
    decisions = screening.decide(items)
    with transaction.atomic():
        code = _new_case_code()
        case = Case.objects.create(code_digest=code_digest(code))
        receipt = _store(case, decisions, request=request)
        if email:
            Contact.objects.create(case=case, sealed=contact.seal(email))
        activity.count(Tally.Kind.CASES)
        audit.record(
            "survivors.case_open",
            request=request,
            obj=case,
            detail=_audit_counts(receipt, contact=bool(email)),
            client_address=False,
        )
    return Receipt(case.pk, hotline.display_tracking_code(code), receipt.items, 0)


def add_items(code_text: str, raw_items, *, request=None) -> Receipt:
    """More pictures for the open case that ``code_text`` names."""
    items = screening.parse(raw_items)
    case = find(code_text)
    limits.submission(request, new_case=False)
    decisions = screening.decide(items)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.state != CaseState.OPEN:
            raise CaseNotOpen(
                _("This case was withdrawn or closed. To take down more pictures, start a new case.")
            )
        known = set(
            Signal.objects.filter(item__case=case, signal_type="sha256").values_list("value", flat=True)
        )
        fresh = [d for d in decisions if d.item.sha256 not in known]
        limits.case_items(case, len(fresh))
        receipt = _store(case, fresh, request=request)
        audit.record(
            "survivors.items_add",
            request=request,
            obj=case,
            detail={**_audit_counts(receipt), "duplicates": len(decisions) - len(fresh)},
            client_address=False,
        )
    return Receipt(case.pk, "", receipt.items, len(decisions) - len(fresh))


def find(code_text: str) -> Case:
    """The case a code names; ``UnknownCode`` saying whether it is mistyped or unknown."""
    try:
        code = hotline.normalise_tracking_code(code_text or "")
    except hotline.InvalidTrackingCode as error:
        raise UnknownCode(
            _("This is not a valid code: %(reason)s.") % {"reason": _translated_reason(error)}
        ) from None
    case = Case.objects.filter(code_digest=code_digest(code)).first()
    if case is None:
        raise UnknownCode(_("We have no case with this code. Check it and try again."))
    return case


def _translated_reason(error) -> str:
    text = str(error)
    if "typo" in text:
        return _("one of its characters is not right")
    if "letters and digits" in text:
        return _("a code has 20 letters and digits")
    return _("it holds only digits and the letters A to Z without U")


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        return ""
    if not contact.enabled():
        raise InvalidSubmission(_("We cannot send updates by e-mail at the moment. Leave the address empty."))
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidSubmission(
            _("The e-mail address does not look right. Check it, or leave it empty.")
        ) from None
    return email


def _new_case_code() -> str:
    while True:
        code = hotline.new_tracking_code()
        if not Case.objects.filter(code_digest=code_digest(code)).exists():
            return code


@dataclass(frozen=True)
class _Stored:
    items: list[ItemReceipt]


def _store(case: Case, decisions: list[screening.Decision], *, request) -> _Stored:
    """The items and their hashes; active ones into the self-reported bank. Inside a transaction."""
    receipts = []
    for decision in decisions:
        item = Item.objects.create(
            case=case,
            kind=decision.item.kind,
            state=decision.state,
            hold_reason=decision.hold_reason,
            pdq_quality=decision.item.pdq_quality,
            pdq_refused=decision.pdq_refused,
        )
        signals = [
            Signal(item=item, signal_type=name, value=value)
            for name, value in decision.item.signals().items()
        ]
        Signal.objects.bulk_create(signals)
        if decision.state == ItemState.ACTIVE:
            activate(item, signals, request=request)
        receipts.append(ItemReceipt(item.kind, item.state, item.pdq_refused))
    activity.count(Tally.Kind.ITEMS, len(decisions))
    activity.count(Tally.Kind.HELD, sum(r.state == ItemState.HELD for r in receipts))
    activity.count(Tally.Kind.LOW_QUALITY, sum(r.pdq_refused for r in receipts))
    return _Stored(receipts)


def activate(item: Item, signals: list[Signal], *, request=None) -> None:
    """Put an item's hashes into the self-reported bank (inside the caller's transaction). An
    entry staff disabled stays disabled, and the item is held for review instead."""
    added = banks.add_self_reported(
        [(s.signal_type, s.value, item.pdq_quality) for s in signals], request=request
    )
    if any(result.refused for result in added):
        fresh = [r.entry_id for r in added if r.outcome in ("added", "restored")]
        banks.disable_self_reported(fresh, reason="held for review", request=request)
        item.state, item.hold_reason = ItemState.HELD, HoldReason.PREVIOUSLY_REJECTED
        item.save(update_fields=["state", "hold_reason"])
        return
    for signal, result in zip(signals, added, strict=True):
        signal.entry_id = result.entry_id
    Signal.objects.bulk_update(signals, ["entry_id"])
    if item.state != ItemState.ACTIVE:
        item.state, item.hold_reason = ItemState.ACTIVE, ""
        item.save(update_fields=["state", "hold_reason"])


def _audit_counts(receipt: _Stored, **extra) -> dict:
    return {
        "items": len(receipt.items),
        "active": sum(r.state == ItemState.ACTIVE for r in receipt.items),
        "held": sum(r.state == ItemState.HELD for r in receipt.items),
        "pdq_refused": sum(r.pdq_refused for r in receipt.items),
        **extra,
    }
