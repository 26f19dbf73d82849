"""Applying routing's result to a case: its actions, the analyst's note, its status, and the
schedule for a new recipient. The rules themselves are the core's (openmnr.core.takedown.routing),
applied with the administrator's data by ../directory.py."""

import dataclasses
from datetime import datetime

from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown.routing import ActionKind
from openmnr.core.takedown.schedule import CaseState

from .. import directory
from ..models import EventKind, Status, TakedownCase
from . import timeline


def route(takedown: TakedownCase, trace: HostingTrace, state: CaseState, now, *, host_changed: bool):
    """Route the case by `trace`, record it on the timeline; returns the schedule's new state."""
    actions = directory.route_trace(trace)
    apply_actions(takedown, actions, host_changed=host_changed)
    timeline.event(takedown, now, EventKind.ROUTED, directory.describe(actions), actions=actions)
    return dataclasses.replace(state, notify=notifies(actions))


def notifies(actions: list[dict]) -> bool:
    return any(ActionKind(action["kind"]).is_notice for action in actions)


def forwards(actions: list[dict]) -> bool:
    return any(action["kind"] == ActionKind.FORWARD_PARTNER for action in actions)


def apply_actions(takedown: TakedownCase, actions: list[dict], *, host_changed: bool = False) -> None:
    takedown.actions = actions
    notes = [
        action["note"] or "the routing rule asks for an analyst" for action in actions if not action["to"]
    ]
    takedown.analyst_note = "; ".join(notes)[:500]
    takedown.referral_wanted = any(action["kind"] == ActionKind.REFER_LAW_ENFORCEMENT for action in actions)
    takedown.forward_pending = forwards(actions)
    if host_changed:
        takedown.status = Status.HOST_CHANGED
    elif not takedown.is_finished:
        takedown.status = status_for(actions)


def status_for(actions: list[dict]) -> str:
    if notifies(actions):
        return Status.NOTICES
    if forwards(actions):
        return Status.FORWARDED
    return Status.ANALYST


def restart(state: CaseState, now: datetime) -> CaseState:
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
