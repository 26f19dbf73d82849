"""Analysts working live alerts: the one function that changes an alert's state."""

from django.db import transaction

from openmnr.audit import services as audit

from .models import LiveAlert, LiveAlertHistory
from .states import ALLOWED, State


class TransitionNotAllowed(Exception):
    """The move is not in ``states.ALLOWED`` from the alert's current state."""


class NotAllowed(Exception):
    """The user's role may not work live alerts."""


def transition(alert_id: int, to: str, *, by, note: str = "", request=None) -> LiveAlert:
    """Move a live alert to ``to``: checks the permission and the move under a row lock, records
    the history and audits, in one transaction. A refusal is audited as denied."""
    if not by.has_perm("live.work_live_alerts"):
        audit.record("live.transition", request=request, actor=by, outcome=audit.DENIED,
                     object_type="live.livealert", object_id=str(alert_id))  # fmt: skip
        raise NotAllowed("your role may not work live alerts")
    with transaction.atomic():
        alert = LiveAlert.objects.select_for_update().get(pk=alert_id)
        if to not in ALLOWED[alert.state]:
            raise TransitionNotAllowed(f"a {State(alert.state).label} alert cannot become {to}")
        if to == State.FALSE_ALERT and not note.strip():
            raise TransitionNotAllowed("say why the alert is false")
        LiveAlertHistory.objects.create(
            alert=alert, by=by, from_state=alert.state, to_state=to, note=note[:500]
        )
        before, alert.state = alert.state, to
        alert.save(update_fields=["state", "updated_at"])
        audit.record(
            "live.transition", request=request, actor=by, obj=alert, detail={"from": before, "to": to}
        )
    return alert
