"""The default live-indicator providers: they read the hotline, takedown and banks apps' data.

Each provider first checks that the model it reads exists (the apps are optional and were built in
parallel with this one); without it, it returns None and the page says "no data from the platform
yet". A model with no rows at all is "no data" too; a model with rows but none in the period gives
a true zero. The fields each provider reads are named in docs/assessment.md ("Live indicators"); if
an app names them differently the provider fails loudly (logged, shown as "could not be computed")
rather than showing a wrong number. An app that owns the data can replace any of these by calling
``indicators.register(key, provider)`` from its own AppConfig.ready().
"""

import statistics
from datetime import UTC, date, datetime

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from openmnr.core.takedown.stats import summarise

from .indicators import IndicatorValue, period_bounds, register


def _model(app_label: str, model_name: str):
    """The model, or None when its app is not installed or does not define it (yet)."""
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _value(value, unit, start, end, source, note="") -> IndicatorValue:
    return IndicatorValue(value, unit, (start, end), datetime.now(UTC), _url(source), note)


# --- capability 12: the hotline. A report is a hotline.Submission (received_at); the hotline assesses
# each reported URL as a hotline.Case (opened_at, assessed_at). ---


def reports_received(start: date, end: date) -> IndicatorValue | None:
    submission = _model("hotline", "Submission")
    if submission is None or not submission.objects.exists():
        return None
    since, until = period_bounds(start, end)
    count = submission.objects.filter(received_at__gte=since, received_at__lt=until).count()
    return _value(count, "count", start, end, "hotline:queue")


def _assessed_cases(start: date, end: date):
    case = _model("hotline", "Case")
    if case is None or not case.objects.exists():
        return None
    since, until = period_bounds(start, end)
    return case.objects.filter(assessed_at__gte=since, assessed_at__lt=until)


def reports_assessed(start: date, end: date) -> IndicatorValue | None:
    cases = _assessed_cases(start, end)
    if cases is None:
        return None
    return _value(cases.count(), "count", start, end, "hotline:queue")


def median_hours_to_assessment(start: date, end: date) -> IndicatorValue | None:
    cases = _assessed_cases(start, end)
    if cases is None:
        return None
    hours = [
        (assessed - opened).total_seconds() / 3600
        for opened, assessed in cases.values_list("opened_at", "assessed_at")
    ]
    if not hours:
        return _value(None, "hours", start, end, "hotline:queue", "no report was assessed in the period")
    return _value(round(statistics.median(hours), 1), "hours", start, end, "hotline:queue")


# --- capability 16: takedown, measured by the takedown app's own statistics (takedown.stats.records():
# one CaseRecord per takedown.TakedownCase, reported when its hotline case opened). ---


def _takedown_summary(start: date, end: date):
    case = _model("takedown", "TakedownCase")
    if case is None or not case.objects.exists():
        return None
    from openmnr.takedown.stats import records

    since, until = period_bounds(start, end)
    in_period = [r for r in records() if since <= r.reported_at < until]
    # Cases still online count as censored at their age now (see core.takedown.stats).
    return summarise(in_period, as_of=datetime.now(UTC))


def median_hours_to_removal(start: date, end: date) -> IndicatorValue | None:
    summary = _takedown_summary(start, end)
    if summary is None:
        return None
    if summary.report_to_removal_median is None:
        note = "no case reported in the period" if not summary.cases else "fewer than half removed so far"
        return _value(None, "hours", start, end, "takedown:stats", note)
    hours = summary.report_to_removal_median.total_seconds() / 3600
    return _value(round(hours, 1), "hours", start, end, "takedown:stats")


def share_removed_within_3_days(start: date, end: date) -> IndicatorValue | None:
    summary = _takedown_summary(start, end)
    if summary is None:
        return None
    share = summary.removed_within[3]
    if share is None:
        note = "no case reported in the period" if not summary.cases else "no case is 3 days old yet"
        return _value(None, "percent", start, end, "takedown:stats", note)
    return _value(round(share * 100, 1), "percent", start, end, "takedown:stats")


# --- capability 7: hash banks. A banks.BankEntry counts from its activation (after the four-eyes
# confirmation: activated_at) until it is disabled (disabled_at). ---


def hash_count(start: date, end: date) -> IndicatorValue | None:
    entry = _model("banks", "BankEntry")
    if entry is None or not entry.objects.exists():
        return None
    _, until = period_bounds(start, end)
    held = entry.objects.filter(activated_at__lt=until).exclude(disabled_at__lt=until).count()
    return _value(held, "count", start, end, "banks:list")


def confirmed_additions(start: date, end: date) -> IndicatorValue | None:
    entry = _model("banks", "BankEntry")
    if entry is None or not entry.objects.exists():
        return None
    since, until = period_bounds(start, end)
    count = entry.objects.filter(activated_at__gte=since, activated_at__lt=until).count()
    return _value(count, "count", start, end, "banks:list")


# industry.reports_received (capability 17) has no default: the industry reporting app does not
# exist yet and should register its own provider.
DEFAULTS = {
    "hotline.reports_received": reports_received,
    "hotline.reports_assessed": reports_assessed,
    "hotline.median_hours_to_assessment": median_hours_to_assessment,
    "takedown.median_hours_to_removal": median_hours_to_removal,
    "takedown.share_removed_within_3_days": share_removed_within_3_days,
    "banks.hash_count": hash_count,
    "banks.confirmed_additions": confirmed_additions,
}


def register_defaults() -> None:
    for key, provider in DEFAULTS.items():
        register(key, provider, default=True)
