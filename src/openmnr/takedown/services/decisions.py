"""An analyst routes a case by hand: notices to the addresses the analyst names (say, the origin
host a CDN disclosed), or a forward to a partner hotline."""

import dataclasses

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.takedown.routing import ActionKind
from openmnr.core.takedown.schedule import CaseState

from .. import directory
from ..errors import DecisionRefused
from ..models import DirectoryEntry, EntryKind, EventKind, TakedownCase
from . import routes, timeline
from .work import save_state


def decide(
    case_id: int,
    user,
    *,
    emails: list[str] | None = None,
    partner: DirectoryEntry | None = None,
    note: str = "",
    request=None,
) -> TakedownCase:
    """Route a case by hand: notices to `emails`, or a forward to `partner`. It replaces what
    routing decided until the host changes (a referral routing asked for stays); the first message
    goes out at the next tick."""
    if bool(emails) == (partner is not None):
        raise DecisionRefused("give either the addresses to notify or the partner hotline to forward to")
    if partner is not None and partner.kind not in (EntryKind.PARTNER, EntryKind.FALLBACK):
        raise DecisionRefused("forward to a partner hotline or the international fallback")
    now = timezone.now()
    with transaction.atomic():
        takedown = TakedownCase.objects.select_for_update().filter(pk=case_id).first()
        if takedown is None:
            raise DecisionRefused(f"case {case_id} has no takedown")
        if takedown.is_finished:
            raise DecisionRefused("the content is already removed")
        action = _action(user, emails=emails, partner=partner, note=note)
        keep = [a for a in takedown.actions if a["kind"] == ActionKind.REFER_LAW_ENFORCEMENT]
        routes.apply_actions(takedown, [action, *keep])
        state = CaseState.from_dict(takedown.schedule)
        state = dataclasses.replace(routes.restart(state, now), notify=bool(emails))
        takedown.next_due_at = now
        timeline.event(takedown, now, EventKind.DECIDED, directory.describe([action]))
        save_state(
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
            detail={"action": str(action["kind"])},
        )
    return takedown


def _action(user, *, emails, partner, note) -> dict:
    """The decision as a stored action (the shape directory.as_dict gives routing's)."""
    rule = f"decided by {user.get_username()}"
    if emails:
        to = {
            "name": note or "host named by an analyst",
            "emails": list(emails),
            "api_url": None,
            "country": None,
        }
        return {"kind": ActionKind.NOTICE_HOST, "rule": rule, "note": note, "to": to, "entry": None}
    to = {
        "name": partner.name,
        "emails": partner.email_list,
        "api_url": partner.api_url or None,
        "country": partner.country or None,
    }
    return {"kind": ActionKind.FORWARD_PARTNER, "rule": rule, "note": note, "to": to, "entry": partner.pk}
