"""Events from the monitor into the platform: live-alert cases, the webhook, the audit trail.

``openmnr live serve`` hands every event its children print to ``record_event``. An
``alert_opened`` event creates the case (``LiveAlert``) with the bank entries behind the hits
(``banks.services.describe_entries``: bank, purpose, classification); ``alert_closed`` updates its
span and entries and marks it no longer ongoing. Both are audited (``live.alert_raised``,
``live.alert_ended``, with the case and the number of entries, no hash) and sent to the configured
webhook (``LIVE_WEBHOOK_URL``, signed as ``openmnr.core.live.webhook`` describes); a webhook that
fails is recorded on the case and does not stop the recording. An event for entries that are no
longer active (disabled between the snapshot and the alert) records nothing: the index is never
the authority. Other events (sessions, reconnects, restarts) are logged, not stored. Sealed frames
an alert event carries (the optional reveal buffer) are kept with the case only when the platform
turned the buffer on (``frames.store``); the webhook never carries them.
"""

import logging
from dataclasses import asdict
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from openmnr.audit import services as audit
from openmnr.banks import services as banks
from openmnr.core.live import webhook

from . import frames as buffered
from .models import LiveAlert

log = logging.getLogger(__name__)

ALERT_EVENTS = ("alert_opened", "alert_closed")


class BadEvent(ValueError):
    """An event that is not what a monitor prints."""


def _when(value) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadEvent("a time is a number of seconds since 1970") from None


def _parse(event: dict) -> dict:
    try:
        alert = event["alert"]
        entries = {int(entry): int(found) for entry, found in dict(alert["entries"]).items()}
        return {
            "key": str(alert["key"])[:32],
            "stream": str(event["stream"])[:500],
            "raised_at": _when(alert["opened_wall"]),
            "first_match_at": _when(alert["first_match_wall"]),
            "last_match_at": _when(alert["last_match_wall"]),
            "stream_start": float(alert["first_match"]),
            "stream_end": float(alert["last_match"]),
            "matching_samples": int(alert["matching_samples"]),
            "entries": entries,
        }
    except (KeyError, TypeError, ValueError) as error:
        raise BadEvent(f"not an alert event ({type(error).__name__})") from None


def record_event(event: dict) -> LiveAlert | None:
    """Record one monitor event; returns the case an alert event created or updated."""
    kind = event.get("event") if isinstance(event, dict) else None
    if kind not in ALERT_EVENTS:
        log.info("live monitor: %s on %s", kind, event.get("stream") if isinstance(event, dict) else "?")
        return None
    fields = _parse(event)
    matches = [asdict(detail) for detail in banks.describe_entries(fields.pop("entries"))]
    if not matches:
        log.info("live monitor: an alert on %s matched no active entry; not recorded", fields["stream"])
        return None
    with transaction.atomic():
        alert = LiveAlert.objects.select_for_update().filter(key=fields["key"]).first()
        created = alert is None
        if created:
            alert = LiveAlert(**fields, matches=matches)
        else:
            for name in ("last_match_at", "stream_end", "matching_samples"):
                setattr(alert, name, fields[name])
            alert.matches = matches
        alert.ongoing = kind == "alert_opened"
        try:
            with transaction.atomic():
                alert.save()
        except IntegrityError:  # the same opened event twice (a restarted reader): keep the first
            return LiveAlert.objects.get(key=fields["key"])
        kept = buffered.store(alert, event.get("frames"))
        audit.record(
            "live.alert_raised" if created else "live.alert_ended",
            obj=alert,
            client_address=False,
            detail={"entries": len(matches), "ongoing": alert.ongoing, "frames": kept},
        )
    buffered.expire()
    error = _send(alert, kind)
    if error != alert.webhook_error:
        LiveAlert.objects.filter(pk=alert.pk).update(webhook_error=error[:300])
        alert.webhook_error = error[:300]
    return alert


def payload(alert: LiveAlert, kind: str) -> dict:
    """What the webhook carries: the case, the stream, the span and the matching entries."""
    return {
        "event": kind,
        "alert": alert.pk,
        "stream": alert.stream,
        "ongoing": alert.ongoing,
        "raised_at": alert.raised_at.isoformat(),
        "first_match_at": alert.first_match_at.isoformat(),
        "last_match_at": alert.last_match_at.isoformat(),
        "stream_seconds": [round(alert.stream_start, 3), round(alert.stream_end, 3)],
        "matches": [
            {
                key: match[key]
                for key in ("entry_id", "bank", "purpose", "classification", "category", "distance")
            }
            for match in alert.matches
        ],
    }


def _send(alert: LiveAlert, kind: str) -> str:
    if not settings.LIVE_WEBHOOK_URL:
        return ""
    return webhook.post(
        settings.LIVE_WEBHOOK_URL,
        settings.LIVE_WEBHOOK_SECRET,
        payload(alert, kind),
        timeout=settings.LIVE_WEBHOOK_TIMEOUT,
        allow_http=tuple(settings.LIVE_WEBHOOK_ALLOW_HTTP),
    )
