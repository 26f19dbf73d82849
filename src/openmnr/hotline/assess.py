"""What an analyst does with a claimed case: classify its items, complete the assessment, and
propose the hashes of confirmed items to a bank.

A case's outcome is never typed in when it has media: it follows from its items
(classification.outcome_of). A page without media (a grooming conversation, a text page) is given
its outcome directly. A case assessed as neither baseline nor nationally illegal has nothing left
to act on and is closed at once.
"""

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.banks import services as banks

from . import cases, holds
from .classification import ILLEGAL, Classification, Site, outcome_of, validate, validate_site
from .errors import AssessmentIncomplete, CaseNotFound, ClaimError, InvalidClassification, ProposalRefused
from .models import Case, MediaItem
from .states import State


def _held_item(item_id: int, user) -> MediaItem:
    """The item, with its case locked and held by `user` in the queue; call inside a transaction."""
    item = MediaItem.objects.filter(pk=item_id).first()
    if item is None:
        raise CaseNotFound(f"there is no media item {item_id}")
    case = cases.locked(item.case_id)
    if case.state != State.TRIAGED:
        raise ClaimError(f"case {case.pk} is {case.get_state_display()}: its items can no longer change")
    cases.require_holder(case, user)
    item.case = case
    return item


def find_item(item_id: int) -> MediaItem:
    """One item, to read its classification; CaseNotFound when there is none."""
    found = MediaItem.objects.filter(pk=item_id).first()
    if found is None:
        raise CaseNotFound(f"there is no media item {item_id}")
    return found


def find_case(case_id: int) -> Case:
    """One case, to read its site; CaseNotFound when there is none."""
    found = Case.objects.filter(pk=case_id).first()
    if found is None:
        raise CaseNotFound(f"there is no case {case_id}")
    return found


def classify_item(item_id: int, user, classification: Classification, *, request=None) -> MediaItem:
    """Record the holder's classification of one item (known material keeps its bank's). The form
    and the API call this one function. The item, its case's state and its holder are checked
    before the classification itself, so that whoever may not touch the item learns nothing from
    a rule's refusal."""
    with transaction.atomic():
        item = _held_item(item_id, user)
        if item.auto_assessed:
            raise InvalidClassification("this item is known material; its classification comes from the bank")
        classification = validate(classification)
        item.assessment = classification.assessment
        item.category = classification.category
        item.age_group = classification.age_group
        item.gender = classification.gender
        item.content_type = classification.content_type
        item.flags = list(classification.flags) if classification.flags is not None else None
        item.assessed_by, item.assessed_at, item.needs_review = user, timezone.now(), False
        item.save(
            update_fields=[
                *("assessment", "category", "age_group", "gender", "content_type", "flags"),
                *("assessed_by", "assessed_at", "needs_review"),
            ]
        )
        audit.record(
            "hotline.item.classify",
            request=request,
            actor=user,
            obj=item,
            detail={"case": item.case_id, **vars(classification)},
        )
    return item


def describe_site(case_id: int, user, site: Site, *, request=None):
    """Record what the held case's site is (site type, commerciality, payment methods); the form
    and the API call this one function, which checks the case before the codes."""
    with transaction.atomic():
        case = cases.locked(case_id)
        if case.state != State.TRIAGED:
            raise ClaimError(f"case {case.pk} is {case.get_state_display()}: it can no longer change")
        cases.require_holder(case, user)
        site = validate_site(site)
        case.site_type, case.commerciality = site.site_type, site.commerciality
        case.payment_methods = list(site.payment_methods) if site.payment_methods is not None else None
        case.save(update_fields=["site_type", "commerciality", "payment_methods"])
        audit.record("hotline.case.site", request=request, actor=user, obj=case, detail=vars(site))
    return case


def complete(
    case_id: int,
    user,
    *,
    page_outcome: Classification | None = None,
    hold_for_police: str = "",
    request=None,
):
    """Finish the assessment of a held case: its outcome from its items (or `page_outcome` for a
    page without media), then closed at once unless the outcome is illegal. An illegal case is
    held for the police when the analyst gives a reason (`hold_for_police`) or the hold rule
    covers it (holds.py), in the same transaction, so takedown never sees it assessed and free."""
    with transaction.atomic():
        case = cases.locked(case_id)
        cases.require_holder(case, user)
        items = list(case.items.all())
        if items:
            missing = sum(1 for item in items if not item.assessment)
            if missing:
                raise AssessmentIncomplete(f"{missing} media item(s) are not classified yet")
            outcome = outcome_of([Classification(i.assessment, i.category, i.age_group) for i in items])
        elif page_outcome is None:
            raise AssessmentIncomplete("this page has no media: choose its outcome")
        else:
            outcome = validate(page_outcome)
        cases.move(
            case,
            State.ASSESSED,
            request=request,
            actor=user,
            reason="assessed by an analyst",
            assessment=outcome.assessment,
            category=outcome.category,
            age_group=outcome.age_group,
            assessed_by=user,
            assessed_at=timezone.now(),
        )
        if outcome.assessment not in ILLEGAL:
            if hold_for_police:
                raise InvalidClassification("only a case assessed illegal can be held for the police")
            cases.move(
                case, State.CLOSED, request=request, actor=user, reason=f"outcome {outcome.assessment}"
            )
        elif hold_for_police:
            holds.hold(case, reason=hold_for_police, request=request, actor=user)
        else:
            holds.apply_rule(case)
    return case


def bank_choices(user) -> list[tuple[int, str]]:
    """The banks `user` may propose to, as (id, name): only banks whose entries someone else must
    confirm before they are matched, so that one analyst's proposal never goes live alone."""
    candidates = banks.visible_banks(user).filter(enabled=True).order_by("name")
    return [(bank.pk, bank.name) for bank in candidates if bank.needs_confirmation]


def propose_to_bank(item_id: int, user, bank_id: int, *, request=None) -> int:
    """Propose the signals of an item an analyst classified illegal to a bank (the banks app's
    four-eyes flow then applies). Returns how many values were proposed; a value the bank already
    holds is skipped, and a PDQ hash below the quality threshold is never proposed."""
    item = MediaItem.objects.filter(pk=item_id).first()
    if item is None:
        raise CaseNotFound(f"there is no media item {item_id}")
    if item.auto_assessed or item.assessment not in ILLEGAL:
        raise ProposalRefused("only media an analyst classified as illegal can be proposed to a bank")
    bank = banks.visible_banks(user).filter(pk=bank_id).first()
    if bank is None or not bank.needs_confirmation:
        raise ProposalRefused("you may not propose to that bank")
    # Every media signal the item has, except a hash too poor to match on (a low-quality PDQ).
    values = {name: hashed for name, hashed in item.signal_values().items() if not hashed.low_quality}
    proposed = 0
    for signal_type, hashed in values.items():
        try:
            banks.propose_entry(
                bank,
                signal_type=signal_type,
                value=hashed.value,
                classification=item.assessment,
                category=item.category,
                age_group=item.age_group,
                gender=item.gender,
                flags=item.flags,
                quality=hashed.quality,
                source_ref=f"hotline case {item.case_id}, item {item.pk}",
                by=user,
                request=request,
            )
            proposed += 1
        except banks.DuplicateEntry:
            continue
        except banks.BankError as exc:
            raise ProposalRefused(str(exc)) from None
    with transaction.atomic():
        MediaItem.objects.filter(pk=item.pk).update(proposed_at=timezone.now())
        audit.record(
            "hotline.item.propose",
            request=request,
            actor=user,
            obj=item,
            detail={"bank": bank.pk, "values": proposed},
        )
    return proposed
