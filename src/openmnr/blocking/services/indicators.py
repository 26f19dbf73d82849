"""Capability 16's live figures (MNR self-assessment): the blocking list's size and age at the end
of the period, the licensees receiving it, and the partners' lists it draws on.

``partner_lists`` counts the partners' lists in use at the end of the period (registered before it,
not removed by then), whatever their licence: a list used only locally still serves analysts, and a
list we may redistribute is counted in ``list_size`` too, through its entries.

Each returns None while the list was never published (no data, not zero), like every provider.
"""

from datetime import UTC, date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from openmnr.assessment.services import IndicatorValue, period_bounds
from openmnr.assessment.services import register_indicator as register

from ..models import ListVersion, PartnerList


def _at_end(start: date, end: date) -> ListVersion | None:
    _, until = period_bounds(start, end)
    return ListVersion.objects.filter(published_at__lt=until).order_by("-version").first()


def _value(value, unit: str, start: date, end: date) -> IndicatorValue:
    return IndicatorValue(value, unit, (start, end), datetime.now(UTC), reverse("blocking:dashboard"))


def list_size(start: date, end: date) -> IndicatorValue | None:
    version = _at_end(start, end)
    return None if version is None else _value(version.count, "count", start, end)


def list_age_hours(start: date, end: date) -> IndicatorValue | None:
    version = _at_end(start, end)
    if version is None:
        return None
    _, until = period_bounds(start, end)
    return _value(round((until - version.published_at).total_seconds() / 3600, 1), "hours", start, end)


def licensees(start: date, end: date) -> IndicatorValue | None:
    if not ListVersion.objects.exists():
        return None
    _, until = period_bounds(start, end)
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name="blocking_licensee", date_joined__lt=until)
        .distinct()
    )
    return _value(users.count(), "count", start, end)


def partner_lists(start: date, end: date) -> IndicatorValue | None:
    if not ListVersion.objects.exists():
        return None
    _, until = period_bounds(start, end)
    in_use = PartnerList.objects.filter(registered_at__lt=until).filter(
        Q(removed_at__isnull=True) | Q(removed_at__gte=until)
    )
    return _value(in_use.count(), "count", start, end)


PROVIDERS = {
    "blocking.list_size": list_size,
    "blocking.list_age_hours": list_age_hours,
    "blocking.licensees": licensees,
    "blocking.partner_lists": partner_lists,
}


def register_providers() -> None:
    for key, provider in PROVIDERS.items():
        register(key, provider)
