"""The steps of the tick that look at the world: trace the hosting (and route when it is new or
changed) and check whether the content is still online. The steps that send are in messages.py.

Each step reads and reaches out first, outside any transaction, then records what it found in one
short transaction under the case's lease (`Work.locked`), timeline included.
"""

from urllib.parse import urlsplit

from django.db import transaction

from openmnr.core.hosting.dns import InvalidHostname
from openmnr.core.hosting.trace import HostingTrace, compare
from openmnr.core.takedown.schedule import CaseState, Event, Task, record_check, record_trace

from ..charts import hours_text
from ..models import EventKind, Status, Trace
from . import messages, outcomes, routes, timeline
from .work import Outcome, Work, save_state


def perform(work: Work, task: Task, number: int, state: CaseState) -> Outcome:
    """Do one task the schedule says is due (`number`: which notice, for a notice)."""
    if task == Task.TRACE:
        return trace(work, state)
    if task == Task.CHECK:
        return check(work, state)
    if task == Task.NOTICE:
        return messages.notice(work, state, number=number)
    return messages.escalate(work, state)


def _failed_trace(hostname: str, now, exc: Exception) -> HostingTrace:
    return HostingTrace(
        hostname=hostname,
        cname_chain=(),
        ips=(),
        asn=None,
        org=None,
        country=None,
        cdn=None,
        abuse_contacts=(),
        registrar=None,
        registrar_abuse_contacts=(),
        traced_at=now,
        problems=(str(exc),),
    )


def trace(work: Work, state: CaseState) -> Outcome:
    """Trace the case's host; route it the first time and whenever the host changed (the new host
    gets its first notice at once)."""
    takedown = work.load()
    hostname = urlsplit(takedown.case.url).hostname or ""
    try:
        found = work.tools.tracer.trace(hostname)
    except InvalidHostname as exc:
        found = _failed_trace(hostname, work.now, exc)
    previous = takedown.traces.first()
    change = compare(HostingTrace.from_dict(previous.data), found) if previous is not None else None
    with transaction.atomic():
        takedown = work.locked()
        Trace.objects.create(
            takedown=takedown,
            traced_at=work.now,
            data=found.to_dict(),
            host_changed=bool(change and change.host_changed),
            changed_fields=list(change.changed_fields) if change else [],
        )
        work.event(takedown, EventKind.TRACED, timeline.describe_trace(found), problems=list(found.problems))
        if change is not None and change.host_changed:
            old = HostingTrace.from_dict(previous.data)
            work.event(
                takedown,
                EventKind.HOST_CHANGED,
                f"moved: the content is hosted elsewhere, {timeline.host(old)} → {timeline.host(found)}",
                fields=list(change.changed_fields),
            )
            takedown.moved_at = work.now
            state = routes.restart(state, work.now)
        if change is None or change.host_changed:
            state = routes.route(takedown, found, state, work.now, host_changed=change is not None)
        takedown.hosting_country = found.hosting_country or ""
        takedown.asn = found.asn
        takedown.provider = (found.cdn or found.org or "")[:200]
        state = record_trace(state, work.now)
        save_state(
            takedown,
            state,
            "status",
            "actions",
            "analyst_note",
            "referral_wanted",
            "forward_pending",
            "hosting_country",
            "asn",
            "provider",
            "moved_at",
        )
    return Outcome(takedown, state)


def check(work: Work, state: CaseState) -> Outcome:
    """Is the content still online? Confirms a removal, or reopens a case whose content is back."""
    takedown = work.load()
    result = work.tools.check(takedown.case)
    state, happened = record_check(state, work.now, result.outcome, work.cadence)
    with transaction.atomic():
        takedown = work.locked()
        outcome = result.outcome.value
        text = f"{outcome.replace('_', ' ')}: {result.detail}" if result.detail else outcome
        work.event(takedown, EventKind.CHECK, text, outcome=outcome, http_status=result.http_status)
        fields = []
        if happened == Event.REMOVED:
            takedown.removed_at, takedown.confirmed_at = state.removed_at, state.confirmed_at
            takedown.status = Status.REMOVED
            takedown.removal_outcome = outcomes.removal_outcome(
                result.outcome, host_acknowledged=takedown.acknowledged_at is not None
            )
            work.event(
                takedown,
                EventKind.REMOVED,
                f"{takedown.get_removal_outcome_display()} since {state.removed_at:%Y-%m-%d %H:%M} UTC, "
                f"{hours_text(state.removed_at - takedown.case.opened_at)} after the report",
                outcome=takedown.removal_outcome,
            )
            fields = ["removed_at", "confirmed_at", "status", "removal_outcome"]
        elif happened == Event.REOPENED:
            takedown.removed_at = takedown.confirmed_at = None
            takedown.removal_outcome = ""
            takedown.status = routes.status_for(takedown.actions)
            # A partner that had the case forwarded learns that the content is back.
            takedown.forward_pending = routes.forwards(takedown.actions)
            work.event(takedown, EventKind.REOPENED, "the content is back online: the case is reopened")
            fields = ["removed_at", "confirmed_at", "status", "forward_pending", "removal_outcome"]
        save_state(takedown, state, *fields)
    return Outcome(takedown, state)
