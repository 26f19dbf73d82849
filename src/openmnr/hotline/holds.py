"""The law-enforcement hold: the police are told first, and no notice reaches the host until they
release the case.

A hotline whose police ask for deconfliction (a notice must not warn a suspect under
investigation) holds a case assessed illegal: an analyst does so when completing the assessment,
or the hold rule does (OPENMNR_HOTLINE_HOLD_ASSESSMENTS, for cases assessed by hand or from the
banks alike). A held case is in the state machine's `held` state, which the takedown app never
acts on (`services.cases_to_act_on` lists assessed cases only), so the host is not told, by
construction rather than by a check in each sender. The case waits in the law-enforcement queue,
where a law-enforcement user either

- releases it: back to `assessed`, and takedown starts from the release (`released_at`), on the
  normal cadence, rather than at once as if the hold had been the host's delay; or
- keeps it, with a reason and a review date: the hold stays, and when the date comes the case is
  marked due for review (a reminder in the queue) until it is answered again.

A hold nobody answers within OPENMNR_HOTLINE_HOLD_ANSWER_HOURS follows the configured rule
(OPENMNR_HOTLINE_HOLD_UNANSWERED): it is released, so that the police's silence does not leave
material online for ever, or escalated (marked and audited, it stays held and heads the queue).
`due` applies both time rules; the worker's clock runs it every minute, and a test runs it on a
controlled clock. Every step locks the case, writes its history where the state changes, and
audits in the same transaction.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from openmnr.audit import services as audit

from . import cases
from .classification import ILLEGAL
from .errors import HoldError
from .models import Case
from .states import State


def hold(case: Case, *, reason: str, request=None, actor=None) -> None:
    """Hold a case just assessed illegal, locked by the caller's transaction."""
    if case.state != State.ASSESSED or case.assessment not in ILLEGAL:
        raise HoldError("only a case assessed illegal, before any notice, can be held for the police")
    now = timezone.now()
    cases.move(
        case,
        State.HELD,
        request=request,
        actor=actor,
        reason=reason,
        held_at=now,
        hold_reason=reason[:500],
        hold_answered_at=None,
        hold_kept_reason="",
        hold_review_at=None,
        hold_reminded_at=None,
        hold_escalated_at=None,
    )


def apply_rule(case: Case) -> bool:
    """Hold the case if the hold rule covers its outcome; True if it did."""
    if case.assessment not in settings.HOTLINE_HOLD_ASSESSMENTS or case.assessment not in ILLEGAL:
        return False
    hold(case, reason=f"hold rule: {case.get_assessment_display()} is held for the police first")
    return True


def held_cases():
    """The law-enforcement queue: escalated holds first, then those due for review, then oldest."""
    return Case.objects.filter(state=State.HELD).order_by(
        "hold_escalated_at", "hold_review_at", "held_at", "pk"
    )


def _held(case_id: int) -> Case:
    case = cases.locked(case_id)
    if case.state != State.HELD:
        raise HoldError(f"case {case_id} is not held for the police")
    return case


def release(case_id: int, user, *, reason: str = "", request=None) -> Case:
    """A law-enforcement user releases a held case: notices may start."""
    with transaction.atomic():
        case = _held(case_id)
        now = timezone.now()
        cases.move(
            case,
            State.ASSESSED,
            request=request,
            actor=user,
            reason=reason or "released by law enforcement",
            released_at=now,
            hold_answered_at=now,
        )
    return case


def keep(case_id: int, user, *, reason: str, review_at: datetime, request=None) -> Case:
    """A law-enforcement user keeps the hold, with a reason and the date to look at it again."""
    reason = (reason or "").strip()
    if not reason:
        raise HoldError("say why the case stays on hold")
    now = timezone.now()
    if review_at <= now:
        raise HoldError("the review date must be in the future")
    with transaction.atomic():
        case = _held(case_id)
        case.hold_kept_reason, case.hold_review_at = reason[:500], review_at
        case.hold_answered_at, case.hold_reminded_at, case.hold_escalated_at = now, None, None
        case.save(
            update_fields=[
                "hold_kept_reason",
                "hold_review_at",
                "hold_answered_at",
                "hold_reminded_at",
                "hold_escalated_at",
            ]
        )
        audit.record(
            "hotline.hold.keep",
            request=request,
            actor=user,
            obj=case,
            detail={"reason": reason, "review_at": review_at.isoformat()},
        )
    return case


def due(now: datetime | None = None) -> dict[str, int]:
    """Apply the time rules of holds: an unanswered hold past its time is released or escalated
    (per OPENMNR_HOTLINE_HOLD_UNANSWERED), a kept hold past its review date is marked due.
    Returns how many of each; safe to run in several workers at once (rows are locked)."""
    now = now or timezone.now()
    counts = {"released": 0, "escalated": 0, "review_due": 0}
    deadline = now - timedelta(hours=settings.HOTLINE_HOLD_ANSWER_HOURS)
    unanswered = Case.objects.filter(
        state=State.HELD, hold_answered_at__isnull=True, hold_escalated_at__isnull=True, held_at__lte=deadline
    ).values_list("pk", flat=True)
    for case_id in list(unanswered):
        with transaction.atomic():
            case = cases.locked(case_id)
            if case.state != State.HELD or case.hold_answered_at or case.hold_escalated_at:
                continue
            hours = settings.HOTLINE_HOLD_ANSWER_HOURS
            if settings.HOTLINE_HOLD_UNANSWERED == "release":
                cases.move(
                    case,
                    State.ASSESSED,
                    reason=f"hold unanswered for {hours} hours: released by rule",
                    released_at=now,
                )
                counts["released"] += 1
            else:
                case.hold_escalated_at = now
                case.save(update_fields=["hold_escalated_at"])
                audit.record("hotline.hold.escalate", obj=case, detail={"unanswered_hours": hours})
                counts["escalated"] += 1
    review = Case.objects.filter(state=State.HELD, hold_review_at__lte=now).filter(
        Q(hold_reminded_at__isnull=True) | Q(hold_reminded_at__lt=F("hold_review_at"))
    )
    for case_id in list(review.values_list("pk", flat=True)):
        with transaction.atomic():
            case = cases.locked(case_id)
            if case.state != State.HELD or case.hold_review_at is None or case.hold_review_at > now:
                continue
            if case.hold_reminded_at and case.hold_reminded_at >= case.hold_review_at:
                continue
            case.hold_reminded_at = now
            case.save(update_fields=["hold_reminded_at"])
            audit.record(
                "hotline.hold.review_due", obj=case, detail={"review_at": case.hold_review_at.isoformat()}
            )
            counts["review_due"] += 1
    return counts
