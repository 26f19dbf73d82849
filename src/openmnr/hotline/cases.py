"""Moving cases: the state machine's one door, claiming, releasing and setting cases aside.

Every change of state goes through `transition`, which locks the case row, checks the move against
`states.ALLOWED`, writes the case's history and the audit event in the same transaction, and raises
`TransitionNotAllowed` for anything else. The takedown app moves assessed cases to actioned and
closed through it (see services.py).
"""

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit

from .errors import CaseNotFound, ClaimError, NotCaseHolder, TransitionNotAllowed
from .models import Case, CaseTransition
from .states import ALLOWED, State


def transition(case_id: int, to: str, *, request=None, actor=None, reason: str = "", **changes) -> Case:
    """Move a case to state `to`, saving `changes` (other fields) with it, and audit the move."""
    with transaction.atomic():
        case = locked(case_id)
        move(case, to, request=request, actor=actor, reason=reason, **changes)
    return case


def locked(case_id: int) -> Case:
    """The case, its row locked until the surrounding transaction ends."""
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"there is no case {case_id}")
    return case


def move(case: Case, to: str, *, request=None, actor=None, reason: str = "", **changes) -> None:
    """`transition` for a case already locked by the caller's transaction."""
    to = State(to)
    if to not in ALLOWED[case.state]:
        raise TransitionNotAllowed(case.state, to)
    before = case.state
    case.state = to
    case.state_changed_at = timezone.now()
    if to != State.TRIAGED:
        changes.update(claimed_by=None, claimed_at=None)  # a claim is for assessing; it ends here
    for name, value in changes.items():
        setattr(case, name, value)
    case.save(update_fields=["state", "state_changed_at", *changes])
    actor_name, _role = audit.describe_actor(request, actor)
    CaseTransition.objects.create(case=case, from_state=before, to_state=to, actor=actor_name, reason=reason)
    audit.record(
        "hotline.case.transition",
        request=request,
        actor=actor,
        obj=case,
        detail={"from": before, "to": str(to), "reason": reason},
    )


def claim(case_id: int, user, *, request=None) -> Case:
    """Take a triaged case for assessment. Atomic: the conditional UPDATE lets exactly one of two
    analysts racing for the same case win, on SQLite and PostgreSQL alike."""
    with transaction.atomic():
        won = Case.objects.filter(pk=case_id, state=State.TRIAGED, claimed_by__isnull=True).update(
            claimed_by=user, claimed_at=timezone.now()
        )
        case = Case.objects.filter(pk=case_id).select_related("claimed_by").first()
        if case is None:
            raise CaseNotFound(f"there is no case {case_id}")
        if not won:
            if case.claimed_by_id == user.pk:
                return case
            if case.claimed_by_id is not None:
                raise ClaimError(f"case {case_id} is already held by {case.claimed_by.get_username()}")
            raise ClaimError(f"case {case_id} is {case.get_state_display()}, not waiting in the queue")
        audit.record("hotline.case.claim", request=request, actor=user, obj=case)
    return case


def release(case_id: int, user, *, request=None) -> None:
    """Give a claimed case back to the queue; only its holder can."""
    with transaction.atomic():
        released = Case.objects.filter(pk=case_id, claimed_by=user).update(claimed_by=None, claimed_at=None)
        if not released:
            raise NotCaseHolder(f"you do not hold case {case_id}")
        audit.record(
            "hotline.case.release", request=request, actor=user, object_type="hotline.case", object_id=case_id
        )


def require_holder(case: Case, user) -> None:
    if case.claimed_by_id != user.pk:
        raise NotCaseHolder("claim the case first: only the analyst holding it may view or assess its media")


def set_aside(
    case_id: int, user, to: str, *, reason: str, duplicate_of: int | None = None, request=None
) -> Case:
    """Mark a held case a duplicate of another case, or not actionable (nothing there to assess)."""
    with transaction.atomic():
        case = locked(case_id)
        require_holder(case, user)
        changes = {}
        if to == State.DUPLICATE:
            original = Case.objects.filter(pk=duplicate_of).first() if duplicate_of else None
            if original is None or original.pk == case.pk:
                raise CaseNotFound("name the other case this one duplicates")
            changes["duplicate_of"] = original
        elif to != State.NOT_ACTIONABLE:
            raise TransitionNotAllowed(case.state, to)
        move(case, to, request=request, actor=user, reason=reason, **changes)
    return case


def queue(state: str = State.TRIAGED):
    """Cases in `state`, in queue order: known matches first, then most reported, then oldest."""
    return (
        Case.objects.filter(state=state)
        .select_related("claimed_by")
        .order_by("-has_known_match", "-reporter_count", "opened_at", "pk")
    )
