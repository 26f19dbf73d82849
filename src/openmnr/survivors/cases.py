"""A survivor's case: its one way out of "open" (``transition``), withdrawal by the person, closing
by staff, and the status the person reads with their code.

``transition`` is the only code that changes a case's state (see states.py for the machine). In
one transaction it locks the case, checks the move, takes the case's pictures out of matching
(disabling their bank entries at once, except an entry that another open case still needs), marks
its items withdrawn, erases its hash values (rejected items keep theirs, so a rejected picture sent
again is recognised), deletes its contact address, writes the history row and the audit event.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openmnr.audit import services as audit
from openmnr.banks import services as banks

from . import contact, intake, limits
from .errors import CaseNotOpen, NotAllowed
from .models import Case, CaseTransition, Outcome, Signal
from .states import CASE_ALLOWED, CaseState, ItemState

PERSON = "the person"


def transition(case_id: int, to: str, *, by=None, reason: str = "", request=None) -> Case:
    """Move a case out of "open" (``by``: the staff user, or None for the person with the code)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        if to not in CASE_ALLOWED[case.state]:
            raise CaseNotOpen(_("This case was already withdrawn or closed."))
        before = case.state
        now = timezone.now()
        withdrawn = _withdraw_items(case, reason=reason or to, request=request)
        contact_deleted = contact.forget(case)
        case.state, case.state_changed_at = to, now
        case.save(update_fields=["state", "state_changed_at"])
        CaseTransition.objects.create(
            case=case,
            from_state=before,
            to_state=to,
            at=now,
            actor=by.get_username() if by is not None else PERSON,
            reason=reason[:500],
        )
        audit.record(
            f"survivors.case_{'withdraw' if to == CaseState.WITHDRAWN else 'close'}",
            request=request,
            actor=by,
            obj=case,
            detail={"from": before, "to": to, "items": withdrawn, "contact_deleted": contact_deleted},
            client_address=by is not None,
        )
        return case


def _withdraw_items(case: Case, *, reason: str, request) -> int:
    items = case.items.exclude(state__in=[ItemState.REJECTED, ItemState.WITHDRAWN])
    entry_ids = set(
        Signal.objects.filter(item__in=items, entry_id__isnull=False).values_list("entry_id", flat=True)
    )
    still_needed = set(
        Signal.objects.filter(
            entry_id__in=entry_ids, item__state=ItemState.ACTIVE, item__case__state=CaseState.OPEN
        )
        .exclude(item__case=case)
        .values_list("entry_id", flat=True)
    )
    banks.disable_self_reported(entry_ids - still_needed, reason=reason, request=request)
    Signal.objects.filter(item__in=items).update(value="")
    return items.update(state=ItemState.WITHDRAWN)


def withdraw(code_text: str, *, request=None) -> Case:
    """The person withdraws their case with its code: platforms stop matching at once."""
    limits.lookup(request)
    case = intake.find(code_text)
    return transition(case.pk, CaseState.WITHDRAWN, reason="withdrawn by the person", request=request)


def close(case_id: int, *, by, reason: str, request=None) -> Case:
    """Staff close a case (dealt with, or an abuse of the page). Needs survivors.close_case."""
    if not by.has_perm("survivors.close_case"):
        raise NotAllowed("your role may not close survivors' cases")
    reason = reason.strip()
    if not reason:
        raise NotAllowed("give a reason for closing the case")
    return transition(case_id, CaseState.CLOSED, by=by, reason=reason, request=request)


@dataclass(frozen=True)
class Status:
    """What the person learns with their code: counts only, never where a match was."""

    state: str
    state_label: str
    opened_at: datetime
    active: int
    held: int
    rejected: int
    withdrawn: int
    pdq_refused: int
    matches: int
    removed: int
    kept: int

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN


def status(code_text: str, *, request=None) -> Status:
    limits.lookup(request)
    return status_of(intake.find(code_text))


def status_of(case: Case) -> Status:
    items = case.items.aggregate(
        active=Count("pk", filter=Q(state=ItemState.ACTIVE)),
        held=Count("pk", filter=Q(state=ItemState.HELD)),
        rejected=Count("pk", filter=Q(state=ItemState.REJECTED)),
        withdrawn=Count("pk", filter=Q(state=ItemState.WITHDRAWN)),
        pdq_refused=Count("pk", filter=Q(pdq_refused=True)),
    )
    outcomes = Outcome.objects.filter(item__case=case).aggregate(
        matches=Count("pk"),
        removed=Count("pk", filter=Q(result=Outcome.Result.REMOVED)),
        kept=Count("pk", filter=Q(result=Outcome.Result.KEPT)),
    )
    return Status(case.state, CaseState(case.state).label, case.opened_at, **items, **outcomes)
