"""Our cases' life in the network: the timeline of what partners did, written once per event.

Every channel (ICCAM, federation) writes through `record_event`, which keys each event so that
seeing it again (the next ICCAM cycle, a partner's retry) adds nothing. A partner's removal is what
the statistics count as "removed through the network".
"""

from datetime import datetime

from django.db import IntegrityError, transaction

from .models import NetworkEvent

REMOVED = "removed"


def record_event(
    case_id: int, channel: str, *, partner: str, action: str, at: datetime, text: str, dedupe_key: str
) -> bool:
    """Put one event on a case's network timeline; False when it was there already."""
    if NetworkEvent.objects.filter(dedupe_key=dedupe_key).exists():
        return False
    try:
        with transaction.atomic():
            NetworkEvent.objects.create(
                case_id=case_id,
                channel=channel,
                partner=partner[:200],
                action=action,
                at=at,
                text=text[:500],
                dedupe_key=dedupe_key[:200],
            )
    except IntegrityError:
        return False
    return True


def events(case_id: int) -> list[NetworkEvent]:
    return list(NetworkEvent.objects.filter(case_id=case_id))
