"""The deterrence page's counts: per day and list version, nothing else.

The page is shown to people whose request hit the list. Who they are and what they asked for is
exactly what must not be kept: no address, no URL, no user agent, no referrer, no cookie. What the
operator may learn is how often the page was shown and how often its help link was followed, per
day and per list version (which tells whether a new version changed anything). A counter row per
(day, version) is incremented with one UPDATE, so concurrent views are all counted.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import DeterrenceCount, ListVersion


def _version(text) -> int | None:
    """A list version named by the page's URL, if it is one that exists; anything else counts as none."""
    try:
        number = int(str(text))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 and ListVersion.objects.filter(version=number).exists() else None


def count(kind: str, version_text=None) -> int | None:
    """Count one view (``views``) or help click (``help_clicks``); the version it was counted under."""
    field = {"view": "views", "help": "help_clicks"}[kind]
    version = _version(version_text)
    today = timezone.localdate()
    for _ in range(2):
        updated = DeterrenceCount.objects.filter(day=today, list_version=version).update(
            **{field: F(field) + 1}
        )
        if updated:
            return version
        try:
            with transaction.atomic():
                DeterrenceCount.objects.create(day=today, list_version=version, **{field: 1})
            return version
        except IntegrityError:
            continue  # created by a concurrent view: count with the update
    return version


def daily(days: int = 30) -> list[DeterrenceCount]:
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(DeterrenceCount.objects.filter(day__gte=since).order_by("-day", "-list_version"))


def help_services() -> list[dict]:
    return settings.BLOCKING_HELP_SERVICES


def total_views(start: date, end: date) -> int:
    return sum(c.views for c in DeterrenceCount.objects.filter(day__gte=start, day__lte=end))
