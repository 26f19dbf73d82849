"""The protective viewer: reveals, one at a time, and each analyst's daily exposure.

Media is shown blurred and grey by default (imaging.py). Revealing an item needs a recent second
factor (the view's `step_up_required`), is audited, and opens a `Reveal`; opening another ends the
previous one, so one item at a time is ever visible, and the bytes are served only to the analyst
whose open reveal names that item. A reveal counts towards the exposure timer until it is hidden
or until HOTLINE_REVEAL_SECONDS have passed, whichever comes first; past
HOTLINE_EXPOSURE_MINUTES_PER_DAY the pages warn. Time is counted here, on the server, not by a
script in the browser.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit

from . import cases, evidence
from .errors import CaseNotFound, RevealError
from .models import MediaItem, Reveal


def _item(item_id: int) -> MediaItem:
    item = MediaItem.objects.select_related("case").filter(pk=item_id).first()
    if item is None:
        raise CaseNotFound(f"there is no media item {item_id}")
    return item


def _longest() -> timedelta:
    return timedelta(seconds=settings.HOTLINE_REVEAL_SECONDS)


def reveal(item_id: int, user, *, request=None) -> Reveal:
    """Show one item to the analyst holding its case; ends any other reveal of theirs."""
    item = _item(item_id)
    cases.require_holder(item.case, user)
    if item.auto_assessed:
        raise RevealError("this item is known material and is never shown")
    if not item.evidence_id:
        raise RevealError("the bytes of this item are not kept (this installation keeps signals only)")
    now = timezone.now()
    with transaction.atomic():
        Reveal.objects.filter(user=user, ended_at__isnull=True).update(ended_at=now)
        shown = Reveal.objects.create(user=user, item=item, started_at=now)
        audit.record(
            "hotline.media.reveal", request=request, actor=user, obj=item, detail={"case": item.case_id}
        )
    return shown


def hide(user) -> None:
    Reveal.objects.filter(user=user, ended_at__isnull=True).update(ended_at=timezone.now())


def current(user) -> Reveal | None:
    """The analyst's open reveal, unless it has outlived HOTLINE_REVEAL_SECONDS."""
    shown = Reveal.objects.filter(user=user, ended_at__isnull=True).order_by("-started_at").first()
    if shown is None or shown.started_at + _longest() < timezone.now():
        return None
    return shown


def revealed_bytes(item_id: int, user) -> tuple[bytes, str]:
    """(bytes, media type) of the item the analyst has revealed now; `RevealError` otherwise.
    The evidence store checks the bytes against the SHA-256 recorded when they were fetched."""
    shown = current(user)
    if shown is None or shown.item_id != item_id:
        raise RevealError("reveal the item first")
    store = evidence.reader()
    if store is None:
        raise RevealError("no evidence key is configured")
    item = shown.item
    return store.get(item.evidence_id, item.sha256), item.media_type


def thumbnail_bytes(item_id: int) -> bytes | None:
    """The item's blurred, greyscale thumbnail, or None when none was kept."""
    item = _item(item_id)
    store = evidence.reader()
    if store is None or not item.thumbnail_id:
        return None
    return store.get(item.thumbnail_id, item.thumbnail_sha256)


def exposure_today(user) -> timedelta:
    """How long the analyst has had media revealed since midnight (server time zone)."""
    now = timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time()))
    total = timedelta()
    for started, ended in Reveal.objects.filter(user=user, started_at__gte=midnight).values_list(
        "started_at", "ended_at"
    ):
        total += min(ended or now, started + _longest(), now) - started
    return total


def exposure_limit() -> timedelta:
    return timedelta(minutes=settings.HOTLINE_EXPOSURE_MINUTES_PER_DAY)
