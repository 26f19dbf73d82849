"""Moving reports through the protocol's lifecycle (see states.py); the worker's clock expires them.

``transition`` is the state machine's one door: it locks the report row, checks the move against
``REPORT_ALLOWED``, writes the report's history and the audit event in the same transaction, and
erases what a report that will never finish must not keep (its document, its files' rows and their
kept bytes). Bytes are deleted only once the transaction has committed, so a rolled-back retract
never loses a file that is still referenced.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit

from . import evidence, statements
from .models import Report, ReportTransition
from .states import REPORT_ALLOWED, ReportState, TransitionNotAllowed

ERASED = (ReportState.RETRACTED, ReportState.EXPIRED)


def transition(
    report: Report,
    to: str,
    *,
    request=None,
    actor=None,
    reason: str = "",
    locked: bool = False,
    detail: dict | None = None,
    **changes,
) -> Report:
    """Move ``report`` to ``to``; ``locked`` says the caller's transaction already holds its row lock
    (and read it under that lock), else it is locked and read again here. ``detail`` adds to the
    audit event (finishing records the matching of the files in it). Only the columns that change
    are written (not the report's document).

    A refused move raises before anything is written; the writes then run without a savepoint
    of their own (they belong to the caller's transaction, or are one), so that a failure among
    them rolls the caller's whole action back."""
    if not locked:
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report.pk)
            return transition(
                report, to, request=request, actor=actor, reason=reason, locked=True, detail=detail, **changes
            )
    to = ReportState(to)
    if to not in REPORT_ALLOWED[report.state]:
        raise TransitionNotAllowed(report.state, to)
    with transaction.atomic(savepoint=False):
        before = report.state
        now = timezone.now()
        report.state, report.changed_at = to, now
        changed = ["state", "changed_at", *changes]
        if to == ReportState.FINISHED:
            report.finished_at = now
            changed.append("finished_at")
        if to in ERASED:
            kept = [i for pair in report.files.values_list("evidence_id", "thumbnail_id") for i in pair if i]
            report.files.all().delete()
            report.xml = ""
            changed.append("xml")
            transaction.on_commit(lambda: evidence.forget(kept))
        for name, value in changes.items():
            setattr(report, name, value)
        statements.update_columns(report, changed, id=report.pk)
        actor_name = actor.get_username() if actor is not None else audit.describe_actor(request, None)[0]
        statements.insert(
            ReportTransition(
                report=report, from_state=before, to_state=to, at=now, actor=actor_name, reason=reason[:500]
            )
        )
        audit.record(
            f"industry.report.{to}",
            request=request,
            actor=actor,
            obj=report,
            detail={"from": before, "to": str(to), "reason": reason[:200], **(detail or {})},
        )
    return report


def expiry_cutoffs(now=None) -> tuple:
    now = now or timezone.now()
    return now - timedelta(hours=settings.INDUSTRY_OPEN_HOURS), now - timedelta(
        hours=settings.INDUSTRY_IDLE_HOURS
    )


def is_expired(report: Report, now=None) -> bool:
    """NCMEC's rule: 24 h after opening or 1 h after the last change, whichever is later."""
    opened_before, changed_before = expiry_cutoffs(now)
    return (
        report.state == ReportState.OPEN
        and report.opened_at <= opened_before
        and report.changed_at <= changed_before
    )


def expire_open_reports() -> int:
    """The clock's job: expire every open report past its time, files and all; returns how many."""
    opened_before, changed_before = expiry_cutoffs()
    due = Report.objects.filter(state=ReportState.OPEN).filter(
        Q(opened_at__lte=opened_before) & Q(changed_at__lte=changed_before)
    )
    count = 0
    for report in due.only("pk"):
        try:
            with transaction.atomic():
                current = Report.objects.select_for_update().get(pk=report.pk)
                if not is_expired(current):
                    continue  # a change arrived since the query
                transition(
                    current,
                    ReportState.EXPIRED,
                    locked=True,
                    reason="not finished within 24 h of opening and 1 h of its last change",
                )
            count += 1
        except TransitionNotAllowed:
            continue
    return count
