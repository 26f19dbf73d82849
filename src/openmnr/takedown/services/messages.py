"""The steps of the tick that send: notices (and their repeats), escalation, and the forward to a
partner hotline; and keeping every delivered message on its case.

A step composes and delivers its messages outside any transaction, then records them under the
lease: each delivered message becomes a `Notice`, each failure a timeline event, and the step is
done only when at least one message went out (otherwise the case waits for the retry delay).
References are taken in order, so a message that fails keeps its reference free for the retry.
"""

import dataclasses
from dataclasses import dataclass

from django.db import transaction

from openmnr.core.takedown.routing import ActionKind
from openmnr.core.takedown.schedule import CaseState, record_escalation, record_notice
from openmnr.hotline import services as hotline

from .. import network, notices
from ..delivery import Delivery, Message
from ..models import DirectoryEntry, EventKind, Notice, NoticeKind, Status, TakedownCase
from .work import Outcome, Work, save_state


@dataclass(frozen=True)
class Sent:
    """One message and what became of it."""

    kind: str  # a NoticeKind
    message: Message
    language: str
    delivery: Delivery
    reference: str


def _recipients(takedown: TakedownCase, kind=None) -> list[tuple[dict, str]]:
    """(action, message kind) for every notice action with a recipient; the message kind is the
    action's own unless `kind` says otherwise (an escalation)."""
    return [
        (action, kind or action["kind"])
        for action in takedown.actions
        if ActionKind(action["kind"]).is_notice and action["to"]
    ]


def _entry(action: dict) -> DirectoryEntry | None:
    return DirectoryEntry.objects.filter(pk=action["entry"]).first() if action.get("entry") else None


def _latest_trace(takedown: TakedownCase) -> dict:
    latest = takedown.traces.first()
    return latest.data if latest is not None else {}


def _send(work: Work, takedown, recipients, *, number: int, extra=None) -> list[Sent]:
    """Compose and deliver one message per (action, kind), in order."""
    sent = []
    offset = 0
    trace = _latest_trace(takedown)
    for action, message_kind in recipients:
        reference = notices.reference(takedown, offset)
        message, language = notices.compose(
            takedown,
            action,
            kind=message_kind,
            notice_reference=reference,
            sent_at=work.now,
            entry=_entry(action),
            number=number,
            trace=trace,
            extra=extra,
        )
        delivery = work.tools.deliver(message)
        if delivery.delivered:
            offset += 1
        sent.append(Sent(message_kind, message, language, delivery, reference))
    return sent


def _record(work: Work, takedown, sent: list[Sent]) -> int:
    """Keep the delivered messages as notices and every failure on the timeline; returns how many
    were delivered."""
    delivered = 0
    for one in sent:
        label = NoticeKind(one.kind).label
        if one.delivery.delivered:
            keep_notice(
                takedown, one.kind, one.message, language=one.language, reference=one.reference, at=work.now
            )
            work.event(
                takedown,
                EventKind.FORWARDED if one.kind == NoticeKind.FORWARD else EventKind.NOTICE,
                f"{label} {one.reference} to {one.message.recipient} by {one.message.channel}",
                reference=one.reference,
            )
            delivered += 1
        else:
            work.event(
                takedown,
                EventKind.NOTICE_FAILED,
                f"{label} to {one.message.recipient} not delivered: {one.delivery.error}",
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
    hotline.advance(takedown.pk, hotline.State.ACTIONED, when_in=[hotline.State.ASSESSED], reason=reason)


def notice(work: Work, state: CaseState, *, number: int) -> Outcome:
    """Notice `number` (1 the first, 2 the first repeat...) to every notice recipient."""
    takedown = work.load()
    recipients = _recipients(takedown)
    if not recipients:
        # Routing changed since the schedule was made (an analyst re-routed): nothing to notify.
        with transaction.atomic():
            takedown = work.locked()
            state = dataclasses.replace(state, notify=False)
            save_state(takedown, state)
        return Outcome(takedown, state)
    sent = _send(work, takedown, recipients, number=number)
    with transaction.atomic():
        takedown = work.locked()
        if not _record(work, takedown, sent):
            return Outcome(takedown, state, done=False)
        state = record_notice(state, work.now)
        takedown.first_notice_at = takedown.first_notice_at or work.now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.NOTICES
        mark_actioned(takedown, f"notice {number} sent")
        save_state(takedown, state, "first_notice_at", "status")
    return Outcome(takedown, state)


def escalate(work: Work, state: CaseState) -> Outcome:
    """Escalation: the notice's recipients again, marked as an escalation, and the registrar's
    abuse contacts when routing did not already include them; the case is flagged for an analyst."""
    takedown = work.load()
    recipients = _recipients(takedown, NoticeKind.ESCALATION)
    trace = _latest_trace(takedown)
    registrar = trace.get("registrar_abuse_contacts") or []
    if registrar and not any(a["kind"] == ActionKind.NOTICE_REGISTRAR for a in takedown.actions):
        to = {
            "name": trace.get("registrar") or "registrar",
            "emails": registrar,
            "api_url": None,
            "country": None,
        }
        action = {"kind": ActionKind.NOTICE_REGISTRAR, "to": to, "entry": None}
        recipients.append((action, NoticeKind.ESCALATION))
    sent = _send(work, takedown, recipients, number=state.notices_sent)
    with transaction.atomic():
        takedown = work.locked()
        if recipients and not _record(work, takedown, sent):
            return Outcome(takedown, state, done=False)
        state = record_escalation(state, work.now)
        note = f"escalated after {state.notices_sent} notices without removal"
        takedown.analyst_note = "; ".join(filter(None, [takedown.analyst_note, note]))[:500]
        work.event(takedown, EventKind.ESCALATED, note)
        save_state(takedown, state, "analyst_note")
    return Outcome(takedown, state)


def forward(work: Work, state: CaseState) -> Outcome:
    """Forward the case to the partner hotline routing chose (and again when content is back):
    through a hotline network (ICCAM, federation; see network.py) when one reaches the hosting
    country, else by the routed partner's e-mail or webhook."""
    through_network = _forward_through_network(work)
    if through_network is not None:
        return Outcome(through_network, state)
    takedown = work.load()
    recipients = [
        (a, NoticeKind.FORWARD)
        for a in takedown.actions
        if a["kind"] == ActionKind.FORWARD_PARTNER and a["to"]
    ]
    sent = _send(work, takedown, recipients, number=1)
    with transaction.atomic():
        takedown = work.locked()
        if recipients and not _record(work, takedown, sent):
            return Outcome(takedown, state, done=False)
        takedown.forward_pending = False
        takedown.first_notice_at = takedown.first_notice_at or work.now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.FORWARDED
        mark_actioned(takedown, "forwarded to a partner hotline")
        takedown.save(update_fields=["forward_pending", "first_notice_at", "status"])
    return Outcome(takedown, state)


def _forward_through_network(work: Work) -> TakedownCase | None:
    """Hand the case to a hotline network instead of e-mail; the saved case, or None when no
    network reaches its hosting country."""
    with transaction.atomic():
        takedown = work.locked()
        ips = _latest_trace(takedown).get("ips") or [""]
        hosting = {"country": takedown.hosting_country, "ip": ips[0], "isp": takedown.provider}
        channel = network.forward(takedown.pk, hosting)
        if not channel:
            return None
        work.event(takedown, EventKind.FORWARDED, f"forwarded through {channel}", channel=channel)
        takedown.forward_pending = False
        takedown.first_notice_at = takedown.first_notice_at or work.now
        if takedown.status in (Status.TRACING, Status.HOST_CHANGED):
            takedown.status = Status.FORWARDED
        mark_actioned(takedown, f"forwarded through {channel}")
        takedown.save(update_fields=["forward_pending", "first_notice_at", "status"])
    return takedown
