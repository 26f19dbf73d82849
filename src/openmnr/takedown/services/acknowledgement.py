"""A recipient confirms that a notice arrived, through the signed link the notice carries."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit

from .. import notices
from ..errors import AcknowledgementInvalid
from ..models import EventKind, Notice, TakedownCase
from . import timeline


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
        timeline.event(
            takedown, now, EventKind.ACKNOWLEDGED, f"{notice.reference} acknowledged by {notice.recipient}"
        )
        audit.record(
            "takedown.notice.acknowledge",
            request=request,
            obj=notice,
            detail={"reference": notice.reference, "with_message": bool(notice.ack_message)},
        )
    return notice, True
