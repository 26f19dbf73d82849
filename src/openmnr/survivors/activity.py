"""Hourly counts of what the Take it down page receives, and whether a flood is under way.

A flood (many pictures in a short time, from one source or many) is the page being used to push
hashes of ordinary pictures at platforms. It shows on the activity page (administrators) hour by
hour, and while the last hour's items exceed SURVIVORS_FLOOD_ITEMS_PER_HOUR new items are held
for staff instead of going to the bank (screening.py). Counts only: no address, no hash.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .models import Item, Tally


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def count(kind: str, n: int = 1) -> None:
    """Add ``n`` to this hour's tally of ``kind``."""
    if n <= 0:
        return
    hour = _hour(timezone.now())
    with transaction.atomic():
        if Tally.objects.filter(hour=hour, kind=kind).update(count=F("count") + n):
            return
        try:
            with transaction.atomic():
                Tally.objects.create(hour=hour, kind=kind, count=n)
        except IntegrityError:  # created by another request in between
            Tally.objects.filter(hour=hour, kind=kind).update(count=F("count") + n)


def items_last_hour() -> int:
    return Item.objects.filter(added_at__gte=timezone.now() - timedelta(hours=1)).count()


def flooding() -> bool:
    return items_last_hour() >= settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR


@dataclass(frozen=True)
class Hour:
    hour: datetime
    counts: dict[str, int]
    flood: bool


def recent_hours(hours: int = 48) -> list[Hour]:
    """The last ``hours`` hours, newest first, every kind of tally in each (zeros included)."""
    now = _hour(timezone.now())
    since = now - timedelta(hours=hours - 1)
    found: dict[datetime, dict[str, int]] = {}
    for hour, kind, value in Tally.objects.filter(hour__gte=since).values_list("hour", "kind", "count"):
        found.setdefault(hour, {})[kind] = value
    rows = []
    for step in range(hours):
        hour = now - timedelta(hours=step)
        counts = {kind: found.get(hour, {}).get(kind, 0) for kind in Tally.Kind.values}
        rows.append(Hour(hour, counts, counts[Tally.Kind.ITEMS] >= settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR))
    return rows
