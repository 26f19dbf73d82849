"""How the exchange takes part in takedown, registered when the app is ready (apps.py):

- routing's forward to a partner hotline goes through the network when it can (takedown.network);
- a partner's removal is what takedown's statistics count as removed through the network;
- each takedown timeline event that is an action partners care about (a notice, a referral, the
  removal, a move abroad) is passed on as it happens, in the transaction that records it.

The last one listens to takedown's timeline rows (`post_save` of takedown's Event) rather than to a
call in each of takedown's steps: every step writes its events through the timeline, referrals
included, so one listener sees them all and takedown needs no knowledge of the exchange.
"""

import logging

from django.db import transaction

from . import federation, services
from .models import Channel, NetworkEvent

log = logging.getLogger(__name__)

# Takedown's timeline event kinds (takedown.models.EventKind values) that partners hear about.
_ACTIONS = {"notice": "notice_to_host", "referral": "referred_to_police", "removed": "removed"}


def forward(case_id: int, hosting: dict) -> str | None:
    channel = services.forward(case_id, hosting=hosting)
    if channel == Channel.FEDERATION:
        partner = federation.partner_for_country(hosting.get("country", ""))
        return f"OpenMNR federation to {partner.name}" if partner else "OpenMNR federation"
    return "ICCAM" if channel == Channel.ICCAM else None


def removals() -> dict:
    found = {}
    for case_id, at in (
        NetworkEvent.objects.filter(action="removed").order_by("at").values_list("case_id", "at")
    ):
        found.setdefault(case_id, at)
    return found


def on_timeline_event(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw:
        return
    action, hosting, reason = _ACTIONS.get(instance.kind), None, ""
    if instance.kind == "removed" and (instance.detail or {}).get("outcome") == "unavailable":
        # The host answers no more: ICCAM's Unavailable, with its reason, not a host's removal.
        action, reason = "unavailable", "not_found_or_site_down"
    if instance.kind == "host_changed":
        action, hosting = _moved(instance)
    if not action:
        return
    try:
        with transaction.atomic():
            services.record_action(
                instance.takedown_id, action, at=instance.at, hosting=hosting, reason=reason
            )
    except Exception:
        # Never break the takedown step that recorded the event; the action stays unsent.
        log.exception("could not pass %s of case %s on to partner hotlines", action, instance.takedown_id)


def _moved(event) -> tuple[str | None, dict | None]:
    """A new host in another country is a move for the network; a new host at home is not."""
    from openmnr.core.hosting.trace import HostingTrace

    from . import config

    latest = event.takedown.traces.first()
    if latest is None:
        return None, None
    trace = HostingTrace.from_dict(latest.data)
    country = trace.hosting_country or ""
    if not country or country in (config.iccam_country(), ""):
        return None, None
    return "moved", {"country": country, "ip": trace.ips[0] if trace.ips else ""}


def connect() -> None:
    from django.apps import apps
    from django.db.models.signals import post_save

    if not apps.is_installed("openmnr.takedown"):
        return
    from openmnr.takedown import services as takedown

    takedown.register_network(takedown.Network(forward=forward, removals=removals))
    post_save.connect(
        on_timeline_event, sender=apps.get_model("takedown", "Event"), dispatch_uid="exchange-timeline"
    )
