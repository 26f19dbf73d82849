"""Industry report statistics and the live MNR indicators of capability 17 (CSEA reporting).

Every figure counts finished reports (a retracted or expired one was never a report), by the day it
was finished. ``register_indicators`` gives the assessment app a provider per key; a key with no
industry report at all answers None ("no data from the platform yet"), never a made-up zero.
"""

import statistics
from collections import Counter
from datetime import date, datetime, timedelta

from django.db.models import Count
from django.urls import reverse

from .annotations import incident_label
from .models import Case, Report
from .states import CaseState, ReportState


def _finished(since: datetime, until: datetime):
    return Report.objects.filter(state=ReportState.FINISHED, finished_at__gte=since, finished_at__lt=until)


def summary(since: datetime, until: datetime) -> dict:
    reports = _finished(since, until)
    cases = Case.objects.filter(report__in=reports)
    received = reports.count()
    with_new = cases.filter(new_files__gt=0).count()
    hours = [
        (viewed - opened).total_seconds() / 3600
        for opened, viewed in cases.filter(first_viewed_at__isnull=False).values_list(
            "opened_at", "first_viewed_at"
        )
    ]
    return {
        "received": received,
        "providers": reports.values("provider_name").distinct().count(),
        "new_material_share": round(100 * with_new / received, 1) if received else None,
        "with_new": with_new,
        "escalated": reports.exclude(escalate="").count(),
        "first_view_median_hours": round(statistics.median(hours), 1) if hours else None,
        "viewed": len(hours),
        "for_other_countries": cases.filter(concerns_home=False).count(),
        "by_state": dict(Counter(cases.values_list("state", flat=True))),
        "by_outcome": dict(Counter(o for o in cases.values_list("outcome", flat=True) if o)),
        "by_incident": sorted(
            (
                (incident_label(row["incident_type"]), row["n"])
                for row in reports.values("incident_type").annotate(n=Count("pk"))
            ),
            key=lambda pair: -pair[1],
        ),
        "by_provider": list(
            reports.values_list("provider_name").annotate(n=Count("pk")).order_by("-n", "provider_name")[:50]
        ),
        "queued": Case.objects.filter(state=CaseState.QUEUED).count(),
    }


# --- live indicators ---------------------------------------------------------------------------


def _indicator(key: str, start: date, end: date):
    from openmnr.assessment.services import IndicatorValue, period_bounds

    if not Report.objects.filter(state=ReportState.FINISHED).exists():
        return None
    since, until = period_bounds(start, end)
    figures = summary(since, until)
    value, unit, note = {
        "industry.reports_received": (figures["received"], "count", ""),
        "industry.providers_reporting": (figures["providers"], "count", ""),
        "industry.new_material_share": (
            figures["new_material_share"],
            "percent",
            "" if figures["received"] else "no industry report in the period",
        ),
        "industry.first_police_view_hours": (
            figures["first_view_median_hours"],
            "hours",
            "" if figures["viewed"] else "no industry report of the period has been viewed yet",
        ),
    }[key]
    return IndicatorValue(
        value, unit, (start, end), datetime.now().astimezone(), reverse("industry:statistics"), note
    )


KEYS = (
    "industry.reports_received",
    "industry.providers_reporting",
    "industry.new_material_share",
    "industry.first_police_view_hours",
)


def register_indicators() -> None:
    from openmnr.assessment.services import register_indicator as register

    for key in KEYS:
        register(key, lambda start, end, key=key: _indicator(key, start, end))


def default_period(days: int = 30) -> tuple[date, date]:
    today = date.today()
    return today - timedelta(days=days - 1), today
