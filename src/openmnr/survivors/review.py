"""Staff work on survivors' pictures: the items screening held, and proposing a self-reported
picture for a bank of confirmed CSAM once an analyst has seen matching content.

Releasing a held item puts its hashes into the self-reported bank (matched at once); rejecting it
keeps them out, and its values stay on record so the same picture sent again is held again.

Confirmation: a self-reported hash says only what its sender claims. When an analyst sees content
that matches it (a hotline report whose media matched the self-reported bank, or an industry
report), they propose the item's hashes for a bank of confirmed CSAM with ``propose_confirmation``,
naming where they saw it. That is an ordinary proposal in the banks app (``propose_entry``), so the
four-eyes rule applies unchanged: the entries become active only once enough senior analysts other
than the proposer have confirmed them in the banks' confirmation queue.

Every action checks survivors.review_items (and, for proposals, the banks app checks its own
permission and the bank), locks the item, and is audited in its transaction.
"""

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.banks import services as banks
from openmnr.hotline import services as hotline

from . import intake
from .errors import NotAllowed
from .models import Item
from .states import ITEM_ALLOWED, CaseState, ItemState

CONFIRMED = "confirmed_csam"
EVIDENCE_KINDS = {"hotline": "hotline case", "industry": "industry report"}


def _require(user, permission: str = "survivors.review_items") -> None:
    if not user.has_perm(permission):
        raise NotAllowed("your role may not do that")


def _locked(item_id: int) -> Item:
    return Item.objects.select_for_update().select_related("case").get(pk=item_id)


def _move(item: Item, to: str) -> None:
    if to not in ITEM_ALLOWED[item.state]:
        raise NotAllowed(f"a {item.get_state_display().lower()} item cannot become {to}")


def held_items():
    return (
        Item.objects.filter(state=ItemState.HELD, case__state=CaseState.OPEN)
        .select_related("case")
        .order_by("added_at", "pk")
    )


def release(item_id: int, *, by, request=None) -> Item:
    """A held item goes to the self-reported bank after all."""
    _require(by)
    with transaction.atomic():
        item = _locked(item_id)
        _move(item, ItemState.ACTIVE)
        intake.activate(item, list(item.signals.all()), request=request)
        item.reviewed_by, item.reviewed_at = by, timezone.now()
        item.save(update_fields=["reviewed_by", "reviewed_at"])
        if item.state != ItemState.ACTIVE:
            raise NotAllowed("staff disabled a bank entry of this picture before; it stays out of matching")
        audit.record(
            "survivors.item_release", request=request, actor=by, obj=item, detail={"case": item.case_id}
        )
        return item


def reject(item_id: int, *, by, note: str, request=None) -> Item:
    """A held item stays out of matching for good."""
    _require(by)
    note = note.strip()
    if not note:
        raise NotAllowed("say why the item is rejected")
    with transaction.atomic():
        item = _locked(item_id)
        _move(item, ItemState.REJECTED)
        item.state, item.reviewed_by, item.reviewed_at, item.review_note = (
            ItemState.REJECTED,
            by,
            timezone.now(),
            note[:500],
        )
        item.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_note"])
        audit.record(
            "survivors.item_reject",
            request=request,
            actor=by,
            obj=item,
            detail={"case": item.case_id, "hold_reason": item.hold_reason, "note": item.review_note},
        )
        return item


def items_for_entry(entry_id: int):
    """The items whose hashes are the bank entry ``entry_id`` (an analyst saw it matched)."""
    return Item.objects.filter(signals__entry_id=entry_id).select_related("case").distinct().order_by("pk")


def confirmed_banks(user):
    """The banks of confirmed CSAM the user may propose entries for."""
    return banks.visible_banks(user).filter(purpose=CONFIRMED, enabled=True).order_by("name")


def propose_confirmation(
    item_id: int,
    *,
    bank,
    classification: str,
    category: str,
    evidence_kind: str,
    evidence_ref: str,
    by,
    request=None,
) -> list:
    """Propose an active item's hashes for a bank of confirmed CSAM (four eyes follow in the banks
    app). ``evidence_kind`` "hotline" must name a hotline case number; "industry" any reference of
    the industry report. Returns the entries proposed (hashes the bank already holds are skipped)."""
    _require(by)
    if bank.purpose != CONFIRMED:
        raise NotAllowed("propose self-reported hashes only for a bank of confirmed CSAM")
    evidence = _evidence(evidence_kind, evidence_ref)
    with transaction.atomic():
        item = _locked(item_id)
        if item.state != ItemState.ACTIVE:
            raise NotAllowed("only an active item can be proposed")
        proposed = []
        for signal in item.signals.exclude(value="").order_by("signal_type"):
            try:
                proposed.append(
                    banks.propose_entry(
                        bank,
                        signal_type=signal.signal_type,
                        value=signal.value,
                        classification=classification,
                        category=category,
                        quality=item.pdq_quality if signal.signal_type == "pdq" else None,
                        source_ref=f"self-reported item {item.pk}; seen in {evidence}",
                        by=by,
                        request=request,
                    )
                )
            except banks.DuplicateEntry:
                continue
            except banks.BankError as error:
                raise NotAllowed(str(error)) from None
        item.proposed_by, item.proposed_at, item.evidence = by, timezone.now(), evidence
        item.save(update_fields=["proposed_by", "proposed_at", "evidence"])
        audit.record(
            "survivors.propose_confirmation",
            request=request,
            actor=by,
            obj=item,
            detail={"bank": bank.pk, "entries": [e.pk for e in proposed], "evidence": evidence},
        )
        return proposed


def _evidence(kind: str, reference: str) -> str:
    reference = reference.strip()
    if kind not in EVIDENCE_KINDS or not reference:
        raise NotAllowed("say where the matching content was seen: a hotline case or an industry report")
    if kind == "hotline":
        try:
            case = hotline.case_summary(int(reference.removeprefix("#")))
        except (ValueError, hotline.HotlineError):
            raise NotAllowed("there is no hotline case with that number") from None
        return f"hotline case {case.id}"
    return f"industry report {reference[:200]}"
