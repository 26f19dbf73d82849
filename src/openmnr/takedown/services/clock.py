"""The tick: open newly assessed cases, then take each case that is due, one at a time under a
lease, and work it until the schedule has nothing due now. The worker's clock runs it every minute
(openmnr.web.clock); `openmnr manage takedown_tick` runs it once.

Concurrency: a tick takes one case at a time with a lease (`lease_until`, `lease_token`) written in
a short transaction (on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent ticks pass
each other by; on SQLite the write transaction is exclusive anyway). Network work happens outside
any transaction, and each step's write checks that the lease is still its own (work.py).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.core.takedown.schedule import CaseState, Task, due, next_due_at
from openmnr.hotline import services as hotline

from .. import config
from ..models import EventKind, Status, TakedownCase
from . import messages, steps, timeline
from .opening import open_assessed
from .work import LeaseLost, Work

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
# Steps one case may take in one tick; the schedule never asks for more than a few at once.
MAX_STEPS = 20

__all__ = ["LEASE", "MAX_STEPS", "LeaseLost", "TickResult", "tick"]


@dataclass
class TickResult:
    opened: int = 0
    processed: int = 0
    failed: int = 0


def tick(now: datetime | None = None, *, tools: config.Tools | None = None, limit: int = 500) -> TickResult:
    """Open newly assessed cases and work every case due at `now` (at most `limit`). Safe to run
    again at once or in several processes: a second run finds nothing due."""
    now = now or timezone.now()
    result = TickResult(opened=open_assessed(now))
    if tools is None:
        with config.tools_from_settings() as tools:
            _work_due(now, tools, result, limit)
    else:
        _work_due(now, tools, result, limit)
    return result


def _work_due(now: datetime, tools: config.Tools, result: TickResult, limit: int) -> None:
    cadence = config.cadence()
    done: list[int] = []
    while len(done) < limit:
        claimed = _claim(now, exclude=done)
        if claimed is None:
            return
        takedown_id, token = claimed
        done.append(takedown_id)
        try:
            _process(Work(takedown_id, token, now, tools, cadence))
            result.processed += 1
        except Exception:
            # One broken case must not stop the others; it is looked at again after the retry delay.
            log.exception("takedown of case %s failed", takedown_id)
            result.failed += 1
            TakedownCase.objects.filter(pk=takedown_id, lease_token=token).update(
                next_due_at=now + _retry_delay(), lease_until=None, lease_token=""
            )


def _claim(now: datetime, exclude: list[int]) -> tuple[int, str] | None:
    """Take the next due case nobody holds: (its id, the lease token), or None."""
    real_now = timezone.now()
    with transaction.atomic():
        candidates = (
            TakedownCase.objects.filter(next_due_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=real_now))
            .exclude(pk__in=exclude)
            .order_by("next_due_at", "pk")
            .select_for_update(skip_locked=True)
        )
        takedown_id = candidates.values_list("pk", flat=True).first()
        if takedown_id is None:
            return None
        token = secrets.token_hex(16)
        TakedownCase.objects.filter(pk=takedown_id).update(lease_until=real_now + LEASE, lease_token=token)
    return takedown_id, token


def _retry_delay() -> timedelta:
    return timedelta(minutes=settings.TAKEDOWN_RETRY_MINUTES)


def _process(work: Work) -> None:
    """Work one claimed case: every task due now, then store when it is next due and let go."""
    takedown = work.load()
    if not takedown.case_is_open:
        _finish_closed_elsewhere(work)
        return
    state = CaseState.from_dict(takedown.schedule)
    retry = False
    for _step in range(MAX_STEPS):
        if takedown.forward_pending:
            outcome = messages.forward(work, state)
        else:
            tasks = due(state, work.now, work.cadence)
            if not tasks:
                break
            # Notices need the trace's recipients, so a trace that is due goes first.
            task = next((task for task in tasks if task.task == Task.TRACE), tasks[0])
            outcome = steps.perform(work, task.task, task.number, state)
        takedown, state = outcome.takedown, outcome.state
        if not outcome.done:
            retry = True
            break

    # What failed is still due, so the whole case waits for the retry delay.
    next_at = work.now + _retry_delay() if retry else next_due_at(state, work.cadence)
    with transaction.atomic():
        takedown = work.locked()
        takedown.next_due_at = next_at
        takedown.lease_until, takedown.lease_token = None, ""
        fields = ["next_due_at", "lease_until", "lease_token"]
        if next_at is None:
            _close(takedown, work.now, "the removal watch ended")
            fields += ["status", "closed_at"]
        takedown.save(update_fields=fields)


def _close(takedown: TakedownCase, now: datetime, reason: str) -> None:
    """Close the hotline case (inside the caller's transaction) and mark the takedown closed."""
    hotline.advance(
        takedown.pk,
        hotline.State.CLOSED,
        when_in=[hotline.State.ASSESSED, hotline.State.ACTIONED],
        reason=reason,
    )
    takedown.status, takedown.closed_at = Status.CLOSED, now
    timeline.event(takedown, now, EventKind.CLOSED, f"closed: {reason}")


def _finish_closed_elsewhere(work: Work) -> None:
    with transaction.atomic():
        takedown = work.locked()
        takedown.status, takedown.closed_at = Status.CLOSED, work.now
        takedown.next_due_at, takedown.lease_until, takedown.lease_token = None, None, ""
        work.event(takedown, EventKind.CLOSED, "closed: the hotline case was closed")
        takedown.save(update_fields=["status", "closed_at", "next_due_at", "lease_until", "lease_token"])
