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

A hold nobody answers in time is released, so that the police's silence does not leave material
online for ever, or escalated (marked and audited, it stays held and heads the queue). Each hold
rule says which, and after how many hours: an entry of OPENMNR_HOTLINE_HOLD_ASSESSMENTS is
``assessment`` or ``assessment:HOURS:release|escalate`` (say ``baseline:24:escalate,
nationally_illegal:72:release``). The hold keeps what its rule said (``hold_answer_hours``,
``hold_unanswered``), so that a rule changed later does not rewrite the promise made when the case
was held; a hold an analyst placed, one placed by a rule without its own, and every hold placed
before rules had one (null after the migration) follow the global default,
OPENMNR_HOTLINE_HOLD_ANSWER_HOURS and OPENMNR_HOTLINE_HOLD_UNANSWERED, read when it applies.
`due` applies both time rules; the worker's clock runs it every minute, and a test runs it on a
controlled clock. Every step locks the case, writes its history where the state changes, and
audits in the same transaction.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from openmnr.audit import services as audit

from . import cases
from .classification import ILLEGAL
from .errors import HoldError
from .models import Case
from .states import State

UNANSWERED = ("release", "escalate")
_RULE = re.compile(r"^(?P<assessment>[a-z_]+)(?::(?P<hours>[0-9]{1,5}):(?P<then>release|escalate))?$")


@dataclass(frozen=True)
class HoldRule:
    """One entry of OPENMNR_HOTLINE_HOLD_ASSESSMENTS: the outcome held, and (None: the global
    default) how long the police have to answer and what happens then."""

    assessment: str
    answer_hours: int | None = None
    unanswered: str = ""


def parse_rule(text: str) -> HoldRule:
    """``assessment`` or ``assessment:HOURS:release|escalate``; ImproperlyConfigured otherwise."""
    found = _RULE.match(text.strip())
    if found is None or found["assessment"] not in ILLEGAL or found["hours"] == "0":
        raise ImproperlyConfigured(
            f"OPENMNR_HOTLINE_HOLD_ASSESSMENTS: {text!r} is not ASSESSMENT or ASSESSMENT:HOURS:release|escalate "
            f"(ASSESSMENT one of {', '.join(ILLEGAL)}; HOURS at least 1)"
        )
    hours = int(found["hours"]) if found["hours"] else None
    return HoldRule(found["assessment"], hours, found["then"] or "")


def rules() -> dict[str, HoldRule]:
    """The configured hold rules by outcome."""
    return {rule.assessment: rule for rule in map(parse_rule, settings.HOTLINE_HOLD_ASSESSMENTS)}


def unanswered_policy(case: Case) -> tuple[int, str]:
    """(hours, "release" | "escalate") for an unanswered hold of `case`: its rule's, else the default."""
    hours = case.hold_answer_hours or settings.HOTLINE_HOLD_ANSWER_HOURS
    return hours, case.hold_unanswered or settings.HOTLINE_HOLD_UNANSWERED


def hold(case: Case, *, reason: str, request=None, actor=None, rule: HoldRule | None = None) -> None:
    """Hold a case just assessed illegal, locked by the caller's transaction; `rule` is the hold
    rule that placed it (None: an analyst did, the global default applies when unanswered)."""
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
        hold_reminder_sent_for=None,
        hold_escalated_at=None,
        hold_answer_hours=rule.answer_hours if rule else None,
        hold_unanswered=rule.unanswered if rule else "",
    )


def apply_rule(case: Case) -> bool:
    """Hold the case if the hold rule covers its outcome; True if it did."""
    rule = rules().get(case.assessment)
    if rule is None:
        return False
    hold(case, reason=f"hold rule: {case.get_assessment_display()} is held for the police first", rule=rule)
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
    (per its rule, see `unanswered_policy`), a kept hold past its review date is marked due.
    Returns how many of each; safe to run in several workers at once (rows are locked)."""
    now = now or timezone.now()
    counts = {"released": 0, "escalated": 0, "review_due": 0}
    # Held cases are few (the police's queue), so each one's own deadline is worked out here.
    unanswered = Case.objects.filter(
        state=State.HELD, hold_answered_at__isnull=True, hold_escalated_at__isnull=True
    ).values_list("pk", "held_at", "hold_answer_hours")
    default_hours = settings.HOTLINE_HOLD_ANSWER_HOURS
    late = [
        pk for pk, held_at, hours in unanswered if held_at + timedelta(hours=hours or default_hours) <= now
    ]
    for case_id in late:
        with transaction.atomic():
            case = cases.locked(case_id)
            if case.state != State.HELD or case.hold_answered_at or case.hold_escalated_at:
                continue
            hours, then = unanswered_policy(case)
            if then == "release":
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
