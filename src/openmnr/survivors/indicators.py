"""Live figures for the MNR self-assessment (capability 8, victim support): survivors' cases
opened, matches platforms reported on them, and removals among those, over a period.

Registered from the app's ready() with ``assessment.indicators.register``. As every provider
does, each returns None when the platform holds no data at all (no case was ever opened), so the
assessment says "no data" rather than a made-up zero; with cases on record, a period without any
is a true zero.
"""

from datetime import UTC, date, datetime

from django.urls import reverse

from openmnr.assessment.services import IndicatorValue, period_bounds
from openmnr.assessment.services import register_indicator as register

from .models import Case, Outcome


def _value(count: int, start: date, end: date) -> IndicatorValue:
    return IndicatorValue(count, "count", (start, end), datetime.now(UTC), reverse("survivors:activity"))


def cases_opened(start: date, end: date) -> IndicatorValue | None:
    if not Case.objects.exists():
        return None
    since, until = period_bounds(start, end)
    return _value(Case.objects.filter(opened_at__gte=since, opened_at__lt=until).count(), start, end)


def _outcomes(start: date, end: date):
    if not Case.objects.exists():
        return None
    since, until = period_bounds(start, end)
    return Outcome.objects.filter(reported_at__gte=since, reported_at__lt=until)


def matches_reported(start: date, end: date) -> IndicatorValue | None:
    outcomes = _outcomes(start, end)
    return None if outcomes is None else _value(outcomes.count(), start, end)


def removals_reported(start: date, end: date) -> IndicatorValue | None:
    outcomes = _outcomes(start, end)
    return (
        None
        if outcomes is None
        else _value(outcomes.filter(result=Outcome.Result.REMOVED).count(), start, end)
    )


PROVIDERS = {
    "survivors.cases_opened": cases_opened,
    "survivors.matches_reported": matches_reported,
    "survivors.removals_reported": removals_reported,
}


def register_providers() -> None:
    for key, provider in PROVIDERS.items():
        register(key, provider)
