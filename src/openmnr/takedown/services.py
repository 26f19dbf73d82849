"""Takedown's service functions: opening a case, the tick that works every case due, the
acknowledgement of a notice, and an analyst's routing decision. Views, the API, the management
command and the task call these; referrals are in referrals.py, statistics in stats.py.

The schedule is the core's (openmnr.core.takedown.schedule): the tick asks `due()` what to do,
does it, records it with the matching `record_*` function and stores the new state with
`next_due_at()`. Each step commits on its own, with its notices and timeline, so a worker killed
between two steps redoes nothing that was recorded. A notice sent just before a crash, and not yet
recorded, goes out again: notices are delivered at least once.

Concurrency: a tick takes one case at a time with a lease (`lease_until`, `lease_token`) written in
a short transaction (on PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent ticks pass
each other by; on SQLite the write transaction is exclusive anyway). Network work happens outside
any transaction, and each step's write checks that the lease is still its own.

The hotline case moves to "actioned" when the first notice, forward or referral goes out, and to
"closed" when the core schedule has nothing more to do (the removal watch ended) - through
openmnr.hotline.cases, the state machine's one door.
"""

import dataclasses
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import service as audit
from openmnr.core.hosting.dns import InvalidHostname
from openmnr.core.hosting.trace import HostingTrace, compare
from openmnr.core.takedown.schedule import (
    Cadence,
    CaseState,
    Event,
    Task,
    due,
    next_due_at,
    record_check,
    record_escalation,
    record_notice,
    record_trace,
)
from openmnr.hotline import cases
from openmnr.hotline.classification import ILLEGAL
from openmnr.hotline.models import Case
from openmnr.hotline.states import State

from . import config, directory, network, notices
from .charts import hours_text
from .errors import AcknowledgementInvalid, DecisionRefused
from .models import DirectoryEntry, EntryKind, EventKind, Notice, NoticeKind, Status, TakedownCase, Trace
from .models import Event as TimelineEvent

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
# Steps one case may take in one tick; the schedule never asks for more than a few at once.
MAX_STEPS = 20


@dataclass
class TickResult:
    opened: int = 0
    processed: int = 0
    failed: int = 0


# --- opening -----------------------------------------------------------------------------------


def open_assessed(now: datetime) -> int:
    """Start takedown for every hotline case assessed illegal that has none yet; returns how many.

    The tick calls this first, so a case assessed between two ticks is picked up within a minute
    (see the report: a hook from the hotline would make it immediate)."""
    opened = 0
    waiting = Case.objects.filter(
        state=State.ASSESSED, assessment__in=ILLEGAL, takedown__isnull=True
    ).order_by("assessed_at", "pk")
    for case in waiting:
        if open_case(case, now) is not None:
            opened += 1
    return opened


def open_case(case: Case, now: datetime) -> TakedownCase | None:
    """The takedown of `case`, opened at its assessment; None if another tick opened it first."""
    opened_at = min(case.assessed_at or now, now)
    state = CaseState(opened_at=opened_at, known_material=case.has_known_match)
    try:
        with transaction.atomic():
            takedown = TakedownCase.objects.create(
                case=case,
                known_material=case.has_known_match,
                schedule=state.to_dict(),
                next_due_at=opened_at,
                opened_at=opened_at,
            )
            when = (
                "first notice at once (known material)"
                if case.has_known_match
                else "first notice after the delay"
            )
            _event(takedown, now, EventKind.OPENED, f"assessed illegal; {when}")
    except IntegrityError:
        return None
    return takedown


# --- the tick ----------------------------------------------------------------------------------


def tick(now: datetime | None = None, *, tools: config.Tools | None = None, limit: int = 500) -> TickResult:
    """Open newly assessed cases and work every case due at `now` (at most `limit`). Safe to run
    again at once or in several processes: a second run finds nothing due."""
    now = now or timezone.now()
    result = TickResult(opened=open_assessed(now))
    if tools is None:
        with config.tools_from_settings() as tools:
            _work(now, tools, result, limit)
    else:
        _work(now, tools, result, limit)
    return result


def _work(now: datetime, tools: config.Tools, result: TickResult, limit: int) -> None:
    cadence = config.cadence()
    done: list[int] = []
    while len(done) < limit:
        claimed = _claim(now, exclude=done)
        if claimed is None:
            return
        takedown_id, token = claimed
        done.append(takedown_id)
        try:
            _process(takedown_id, token, now, tools, cadence)
            result.processed += 1
        except Exception:
            # One broken case must not stop the others; it is looked at again after the retry delay.
            log.exception("takedown of case %s failed", takedown_id)
            result.failed += 1
            TakedownCase.objects.filter(pk=takedown_id, lease_token=token).update(
                next_due_at=now + _retry_delay(), lease_until=None, lease_token=""
            )


def _claim(now: datetime, exclude: list[int]) -> tuple[int, str] | None:
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


class LeaseLost(Exception):
    """Another tick took the case after this one's lease ran out; this one stops."""


def _locked(takedown_id: int, token: str) -> TakedownCase:
    takedown = TakedownCase.objects.select_for_update().get(pk=takedown_id)
    if takedown.lease_token != token:
        raise LeaseLost(takedown_id)
    return takedown


def _process(takedown_id: int, token: str, now: datetime, tools: config.Tools, cadence: Cadence) -> None:
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    if takedown.case.state not in (State.ASSESSED, State.ACTIONED):
        _finish_closed_elsewhere(takedown_id, token, now)
        return
    state = CaseState.from_dict(takedown.schedule)
    retry = False
    for _step in range(MAX_STEPS):
        if takedown.forward_pending:
            takedown, delivered = _forward(takedown_id, token, now, tools)
            if not delivered:
                retry = True
                break
            continue
        tasks = due(state, now, cadence)
        if not tasks:
            break
        # Notices need the trace's recipients, so a trace that is due goes first.
        task = next((task for task in tasks if task.task == Task.TRACE), tasks[0])
        takedown, state, done = _perform(takedown_id, token, task, state, now, tools, cadence)
        if not done:
            retry = True
            break

    # What failed is still due, so the whole case waits for the retry delay.
    next_at = now + _retry_delay() if retry else next_due_at(state, cadence)
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        takedown.next_due_at = next_at
        takedown.lease_until, takedown.lease_token = None, ""
        fields = ["next_due_at", "lease_until", "lease_token"]
        if next_at is None:
            _close(takedown, now, "the removal watch ended")
            fields += ["status", "closed_at"]
        takedown.save(update_fields=fields)


def _perform(takedown_id, token, task, state, now, tools, cadence) -> tuple[TakedownCase, CaseState, bool]:
    """Do one task; returns the case, the new state, and False when it must be tried again later."""
    if task.task == Task.TRACE:
        return _trace(takedown_id, token, state, now, tools)
    if task.task == Task.CHECK:
        return _check(takedown_id, token, state, now, tools, cadence)
    if task.task == Task.NOTICE:
        return _notice(takedown_id, token, state, now, tools, number=task.number)
    return _escalate(takedown_id, token, state, now, tools)


def _event(takedown, at, kind, text, **detail) -> None:
    TimelineEvent.objects.create(takedown=takedown, at=at, kind=kind, text=text[:500], detail=detail)


def _save_state(takedown: TakedownCase, state: CaseState, *fields: str) -> None:
    takedown.schedule = state.to_dict()
    takedown.save(update_fields=["schedule", *fields])


# --- trace and routing -------------------------------------------------------------------------


def _trace(takedown_id, token, state, now, tools):
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    hostname = urlsplit(takedown.case.url).hostname or ""
    try:
        trace = tools.tracer.trace(hostname)
    except InvalidHostname as exc:
        trace = HostingTrace(
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
    previous = takedown.traces.first()
    change = compare(HostingTrace.from_dict(previous.data), trace) if previous is not None else None
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        Trace.objects.create(
            takedown=takedown,
            traced_at=now,
            data=trace.to_dict(),
            host_changed=bool(change and change.host_changed),
            changed_fields=list(change.changed_fields) if change else [],
        )
        _event(takedown, now, EventKind.TRACED, _describe_trace(trace), problems=list(trace.problems))
        if change is not None and change.host_changed:
            old = HostingTrace.from_dict(previous.data)
            _event(
                takedown,
                now,
                EventKind.HOST_CHANGED,
                f"host changed: {_host(old)} → {_host(trace)}",
                fields=list(change.changed_fields),
            )
            # The new host has had no notice yet: its cadence starts afresh, first notice at once.
            state = _restart(state, now)
        if change is None or change.host_changed:
            state = _route(takedown, trace, state, now, host_changed=change is not None)
        takedown.hosting_country = trace.hosting_country or ""
        takedown.asn = trace.asn
        takedown.provider = (trace.cdn or trace.org or "")[:200]
        state = record_trace(state, now)
        _save_state(
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
        )
    return takedown, state, True


def _host(trace: HostingTrace) -> str:
    if trace.cdn:
        return f"{trace.cdn} (CDN)"
    where = f"AS{trace.asn} {trace.org or ''}".strip() if trace.asn else ", ".join(trace.ips) or "nowhere"
    return f"{where} in {trace.country}" if trace.country else where


def _describe_trace(trace: HostingTrace) -> str:
    text = f"{trace.hostname}: {_host(trace)}"
    if trace.abuse_contacts:
        text += f"; abuse contact {', '.join(trace.abuse_contacts)}"
    if trace.problems:
        text += f"; {len(trace.problems)} problem(s): {trace.problems[0]}"
    return text


def _restart(state: CaseState, now: datetime) -> CaseState:
    """The schedule for a new recipient: as if the case opened now with known material (it is
    assessed), keeping the check and trace history."""
    return CaseState(
        opened_at=now,
        known_material=True,
        notify=state.notify,
        last_check_at=state.last_check_at,
        last_traced_at=state.last_traced_at,
        reopened=state.reopened,
    )


def _route(takedown: TakedownCase, trace: HostingTrace, state: CaseState, now, *, host_changed: bool):
    actions = directory.route_trace(trace)
    _apply_actions(takedown, actions, host_changed=host_changed)
    _event(takedown, now, EventKind.ROUTED, directory.describe(actions), actions=actions)
    return dataclasses.replace(state, notify=_notifies(actions))


def _notifies(actions: list[dict]) -> bool:
    return any(action["kind"] in directory.NOTICE_KINDS for action in actions)


def _apply_actions(takedown: TakedownCase, actions: list[dict], *, host_changed: bool = False) -> None:
    takedown.actions = actions
    notes = [
        action["note"] or "the routing rule asks for an analyst" for action in actions if not action["to"]
    ]
    takedown.analyst_note = "; ".join(notes)[:500]
    takedown.referral_wanted = any(action["kind"] == "refer_law_enforcement" for action in actions)
    takedown.forward_pending = any(action["kind"] == "forward_partner" for action in actions)
    if host_changed:
        takedown.status = Status.HOST_CHANGED
    elif takedown.status not in (Status.REMOVED, Status.CLOSED):
        takedown.status = _status_for(actions)


def _status_for(actions: list[dict]) -> str:
    if _notifies(actions):
        return Status.NOTICES
    if any(action["kind"] == "forward_partner" for action in actions):
        return Status.FORWARDED
    return Status.ANALYST


def _entry(action: dict) -> DirectoryEntry | None:
    return DirectoryEntry.objects.filter(pk=action["entry"]).first() if action.get("entry") else None


def _latest_trace(takedown: TakedownCase) -> dict:
    latest = takedown.traces.first()
    return latest.data if latest is not None else {}


# --- notices, escalation, forwarding ---------------------------------------------------------


def _send(takedown, recipients, *, number, now, tools, extra=None):
    """Compose and deliver one message per (action, kind); returns [(kind, message, language,
    delivery, reference)] in order. References are taken in order, so a message that
    fails keeps its reference free for the retry."""
    sent = []
    offset = 0
    trace = _latest_trace(takedown)
    for action, message_kind in recipients:
        entry = _entry(action)
        reference = notices.reference(takedown, offset)
        message, language = notices.compose(
            takedown,
            action,
            kind=message_kind,
            notice_reference=reference,
            sent_at=now,
            entry=entry,
            number=number,
            trace=trace,
            extra=extra,
        )
        delivery = tools.deliver(message)
        if delivery.delivered:
            offset += 1
        sent.append((message_kind, message, language, delivery, reference))
    return sent


def _record_sent(takedown, sent, now) -> int:
    """Store the delivered messages as notices and every failure on the timeline; returns how
    many were delivered."""
    delivered = 0
    for kind, message, language, delivery, reference in sent:
        if delivery.delivered:
            keep_notice(takedown, kind, message, language=language, reference=reference, at=now)
            label = NoticeKind(kind).label
            _event(
                takedown,
                now,
                EventKind.FORWARDED if kind == NoticeKind.FORWARD else EventKind.NOTICE,
                f"{label} {reference} to {message.recipient} by {message.channel}",
                reference=reference,
            )
            delivered += 1
        else:
            _event(
                takedown,
                now,
                EventKind.NOTICE_FAILED,
                f"{NoticeKind(kind).label} to {message.recipient} not delivered: {delivery.error}",
            )
    return delivered


def keep_notice(takedown, kind, message, *, language, reference, at, recipient="") -> Notice:
    """Keep a delivered message (notice, forward or referral) on its takedown case."""
    return Notice.objects.create(
        takedown=takedown,
        reference=reference,
        kind=kind,
        number=message.payload.get("number", 1),
        recipient=(recipient or message.recipient)[:200],
        channel=message.channel,
        address=message.address,
        language=language,
        subject=message.subject[:300],
        body=message.body,
        sent_at=at,
        delivered=True,
    )


def mark_actioned(takedown: TakedownCase, reason: str) -> None:
    """Move the hotline case to "actioned" when the first message about it went out (inside the
    caller's transaction)."""
    case = cases.locked(takedown.pk)
    if case.state == State.ASSESSED:
        cases.move(case, State.ACTIONED, reason=reason)


def _notice(takedown_id, token, state, now, tools, *, number):
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    recipients = [(a, a["kind"]) for a in takedown.actions if a["kind"] in directory.NOTICE_KINDS and a["to"]]
    if not recipients:
        # Routing changed since the schedule was made (an analyst re-routed): nothing to notify.
        with transaction.atomic():
            takedown = _locked(takedown_id, token)
            state = dataclasses.replace(state, notify=False)
            _save_state(takedown, state)
        return takedown, state, True
    sent = _send(takedown, recipients, number=number, now=now, tools=tools)
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        if not _record_sent(takedown, sent, now):
            return takedown, state, False
        state = record_notice(state, now)
        fields = ["first_notice_at", "status"]
        takedown.first_notice_at = takedown.first_notice_at or now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.NOTICES
        mark_actioned(takedown, f"notice {number} sent")
        _save_state(takedown, state, *fields)
    return takedown, state, True


def _escalate(takedown_id, token, state, now, tools):
    """Escalation: the notice's recipients again, marked as an escalation, and the registrar's
    abuse contacts when routing did not already include them; the case is flagged for an analyst."""
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    recipients = [
        (a, NoticeKind.ESCALATION)
        for a in takedown.actions
        if a["kind"] in directory.NOTICE_KINDS and a["to"]
    ]
    trace = _latest_trace(takedown)
    registrar = trace.get("registrar_abuse_contacts") or []
    if registrar and not any(a["kind"] == "notice_registrar" for a in takedown.actions):
        to = {
            "name": trace.get("registrar") or "registrar",
            "emails": registrar,
            "api_url": None,
            "country": None,
        }
        recipients.append(({"kind": "notice_registrar", "to": to, "entry": None}, NoticeKind.ESCALATION))
    sent = _send(takedown, recipients, number=state.notices_sent, now=now, tools=tools)
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        if recipients and not _record_sent(takedown, sent, now):
            return takedown, state, False
        state = record_escalation(state, now)
        note = f"escalated after {state.notices_sent} notices without removal"
        takedown.analyst_note = "; ".join(filter(None, [takedown.analyst_note, note]))[:500]
        _event(takedown, now, EventKind.ESCALATED, note)
        _save_state(takedown, state, "analyst_note")
    return takedown, state, True


def _forward(takedown_id, token, now, tools) -> tuple[TakedownCase, bool]:
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    if _forward_through_network(takedown_id, token, now):
        return TakedownCase.objects.get(pk=takedown_id), True
    recipients = [
        (a, NoticeKind.FORWARD) for a in takedown.actions if a["kind"] == "forward_partner" and a["to"]
    ]
    sent = _send(takedown, recipients, number=1, now=now, tools=tools)
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        if recipients and not _record_sent(takedown, sent, now):
            return takedown, False
        takedown.forward_pending = False
        takedown.first_notice_at = takedown.first_notice_at or now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.FORWARDED
        mark_actioned(takedown, "forwarded to a partner hotline")
        takedown.save(update_fields=["forward_pending", "first_notice_at", "status"])
    return takedown, True


def _forward_through_network(takedown_id, token, now) -> bool:
    """Hand the case to a hotline network (ICCAM, federation; see network.py) instead of e-mail."""
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        ips = _latest_trace(takedown).get("ips") or [""]
        hosting = {"country": takedown.hosting_country, "ip": ips[0], "isp": takedown.provider}
        channel = network.forward(takedown.pk, hosting)
        if not channel:
            return False
        _event(takedown, now, EventKind.FORWARDED, f"forwarded through {channel}", channel=channel)
        takedown.forward_pending = False
        takedown.first_notice_at = takedown.first_notice_at or now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.FORWARDED
        mark_actioned(takedown, f"forwarded through {channel}")
        takedown.save(update_fields=["forward_pending", "first_notice_at", "status"])
    return True


# --- availability ------------------------------------------------------------------------------


def _check(takedown_id, token, state, now, tools, cadence):
    takedown = TakedownCase.objects.select_related("case").get(pk=takedown_id)
    result = tools.check(takedown.case)
    state, happened = record_check(state, now, result.outcome, cadence)
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        text = (
            f"{result.outcome.value.replace('_', ' ')}: {result.detail}"
            if result.detail
            else result.outcome.value
        )
        _event(
            takedown, now, EventKind.CHECK, text, outcome=result.outcome.value, http_status=result.http_status
        )
        fields = []
        if happened == Event.REMOVED:
            takedown.removed_at, takedown.confirmed_at = state.removed_at, state.confirmed_at
            takedown.status = Status.REMOVED
            _event(
                takedown,
                now,
                EventKind.REMOVED,
                f"gone since {state.removed_at:%Y-%m-%d %H:%M} UTC, "
                f"{hours_text(state.removed_at - takedown.case.opened_at)} after the report",
            )
            fields = ["removed_at", "confirmed_at", "status"]
        elif happened == Event.REOPENED:
            takedown.removed_at = takedown.confirmed_at = None
            takedown.status = _status_for(takedown.actions)
            # A partner that had the case forwarded learns that the content is back.
            takedown.forward_pending = any(a["kind"] == "forward_partner" for a in takedown.actions)
            _event(takedown, now, EventKind.REOPENED, "the content is back online: the case is reopened")
            fields = ["removed_at", "confirmed_at", "status", "forward_pending"]
        _save_state(takedown, state, *fields)
    return takedown, state, True


# --- closing -----------------------------------------------------------------------------------


def _close(takedown: TakedownCase, now: datetime, reason: str) -> None:
    """Close the hotline case (inside the caller's transaction) and mark the takedown closed."""
    case = cases.locked(takedown.pk)
    if case.state in (State.ASSESSED, State.ACTIONED):
        cases.move(case, State.CLOSED, reason=reason)
    takedown.status, takedown.closed_at = Status.CLOSED, now
    _event(takedown, now, EventKind.CLOSED, f"closed: {reason}")


def _finish_closed_elsewhere(takedown_id: int, token: str, now: datetime) -> None:
    with transaction.atomic():
        takedown = _locked(takedown_id, token)
        takedown.status, takedown.closed_at = Status.CLOSED, now
        takedown.next_due_at, takedown.lease_until, takedown.lease_token = None, None, ""
        _event(takedown, now, EventKind.CLOSED, "closed: the hotline case was closed")
        takedown.save(update_fields=["status", "closed_at", "next_due_at", "lease_until", "lease_token"])


# --- acknowledgement ---------------------------------------------------------------------------


def notice_for_token(token: str) -> Notice:
    """The notice an acknowledgement link names. Raises AcknowledgementExpired/-Invalid."""
    reference = notices.reference_from_token(token)
    notice = Notice.objects.filter(reference=reference).select_related("takedown").first()
    if notice is None:
        raise AcknowledgementInvalid("this acknowledgement link names no notice")
    return notice


def acknowledge(
    token: str, message: str = "", *, request=None, at: datetime | None = None
) -> tuple[Notice, bool]:
    """Record that the recipient confirmed receipt (at `at`, default now; the demo replays a past
    day): (notice, newly acknowledged?). A second confirmation changes nothing."""
    notice = notice_for_token(token)
    now = at or timezone.now()
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        if notice.acknowledged_at is not None:
            return notice, False
        notice.acknowledged_at, notice.ack_message = now, message.strip()[:2000]
        notice.save(update_fields=["acknowledged_at", "ack_message"])
        takedown = TakedownCase.objects.select_for_update().get(pk=notice.takedown_id)
        if takedown.acknowledged_at is None:
            takedown.acknowledged_at = now
            takedown.save(update_fields=["acknowledged_at"])
        _event(
            takedown, now, EventKind.ACKNOWLEDGED, f"{notice.reference} acknowledged by {notice.recipient}"
        )
        audit.record(
            "takedown.notice.acknowledge",
            request=request,
            obj=notice,
            detail={"reference": notice.reference, "with_message": bool(notice.ack_message)},
        )
    return notice, True


# --- an analyst's decision ---------------------------------------------------------------------


def decide(
    case_id: int,
    user,
    *,
    emails: list[str] | None = None,
    partner: DirectoryEntry | None = None,
    note: str = "",
    request=None,
) -> TakedownCase:
    """Route a case by hand: notices to `emails` (say, the origin host a CDN named), or a forward to
    `partner`. It replaces what routing decided until the host changes; the first notice goes out
    at the next tick."""
    if bool(emails) == (partner is not None):
        raise DecisionRefused("give either the addresses to notify or the partner hotline to forward to")
    if partner is not None and partner.kind not in (EntryKind.PARTNER, EntryKind.FALLBACK):
        raise DecisionRefused("forward to a partner hotline or the international fallback")
    now = timezone.now()
    with transaction.atomic():
        takedown = TakedownCase.objects.select_for_update().filter(pk=case_id).first()
        if takedown is None:
            raise DecisionRefused(f"case {case_id} has no takedown")
        if takedown.status in (Status.REMOVED, Status.CLOSED):
            raise DecisionRefused("the content is already removed")
        rule = f"decided by {user.get_username()}"
        if emails:
            to = {
                "name": note or "host named by an analyst",
                "emails": list(emails),
                "api_url": None,
                "country": None,
            }
            action = {"kind": "notice_host", "rule": rule, "note": note, "to": to, "entry": None}
        else:
            to = {
                "name": partner.name,
                "emails": partner.email_list,
                "api_url": partner.api_url or None,
                "country": partner.country or None,
            }
            action = {"kind": "forward_partner", "rule": rule, "note": note, "to": to, "entry": partner.pk}
        keep = [a for a in takedown.actions if a["kind"] == "refer_law_enforcement"]
        _apply_actions(takedown, [action, *keep])
        state = CaseState.from_dict(takedown.schedule)
        state = dataclasses.replace(_restart(state, now), notify=bool(emails))
        takedown.next_due_at = now
        _event(takedown, now, EventKind.DECIDED, directory.describe([action]))
        _save_state(
            takedown,
            state,
            "actions",
            "analyst_note",
            "referral_wanted",
            "forward_pending",
            "status",
            "next_due_at",
        )
        audit.record(
            "takedown.case.decide",
            request=request,
            actor=user,
            obj=takedown,
            detail={"action": action["kind"]},
        )
    return takedown
