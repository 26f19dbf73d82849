"""Removal-time statistics of the takedown cases, measured by the core (openmnr.core.takedown.stats).

Each case contributes its report time (when the first report named the URL), first notice (or
forward), removal (the first miss of the run that confirmed it) and where it was hosted. The
statistics page and both CSV exports read from here.
"""

import csv
import io

from django.utils import timezone

from openmnr.core.takedown.stats import Breakdown, CaseRecord, breakdown, to_rows

from .models import TakedownCase

CASE_COLUMNS = (
    "case",
    "status",
    "reported_at",
    "assessed_at",
    "first_notice_at",
    "acknowledged_at",
    "removed_at",
    "confirmed_at",
    "hosting_country",
    "asn",
)


def _cases():
    return TakedownCase.objects.select_related("case").order_by("pk")


def records() -> list[CaseRecord]:
    return [
        CaseRecord(
            reported_at=takedown.case.opened_at,
            first_notice_at=takedown.first_notice_at,
            removed_at=takedown.removed_at,
            country=takedown.hosting_country or None,
            asn=takedown.asn,
        )
        for takedown in _cases()
    ]


def measure(as_of=None) -> Breakdown:
    return breakdown(records(), as_of or timezone.now())


def summary_csv(result: Breakdown) -> str:
    rows = to_rows(result)
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: "" if value is None else value for key, value in row.items()} for row in rows)
    return out.getvalue()


def cases_csv() -> str:
    """One row per case: the five times every case records, and where it was hosted. No URLs."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CASE_COLUMNS)
    for takedown in _cases():
        case = takedown.case
        times = (
            case.opened_at,
            case.assessed_at,
            takedown.first_notice_at,
            takedown.acknowledged_at,
            takedown.removed_at,
            takedown.confirmed_at,
        )
        writer.writerow(
            [
                case.pk,
                takedown.status,
                *(moment.isoformat() if moment else "" for moment in times),
                takedown.hosting_country,
                takedown.asn or "",
            ]
        )
    return out.getvalue()
