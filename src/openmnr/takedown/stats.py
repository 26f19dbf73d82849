"""Removal-time statistics of the takedown cases, measured by the core (openmnr.core.takedown.stats).

Each case contributes its report time (when the first report named the URL), first notice (or
forward), removal (the first miss of the run that confirmed it) and where it was hosted. The
statistics page and both CSV exports read from here.
"""

import csv
import dataclasses
import io

from django.utils import timezone

from openmnr.core.takedown.stats import Breakdown, CaseRecord, Summary, breakdown, summarise, to_rows

from . import network
from .models import EventKind, NoticeKind, TakedownCase

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


ROUTES = ("notices from this hotline", "forwarded by e-mail or webhook", "removed through the network")


def by_route(as_of=None) -> dict[str, Summary]:
    """The measures per route: cases this hotline noticed itself, cases forwarded to a partner by
    e-mail, and cases forwarded through a hotline network, measured with the partner's removal
    time ("removed through the network"; until a partner reports one, our own checks')."""
    as_of = as_of or timezone.now()
    partner_removed = network.removals()
    through_network = set(
        TakedownCase.objects.filter(events__kind=EventKind.FORWARDED, events__detail__has_key="channel")
        .values_list("pk", flat=True)
        .distinct()
    )
    by_email = set(
        TakedownCase.objects.filter(notices__kind=NoticeKind.FORWARD).values_list("pk", flat=True).distinct()
    )
    groups: dict[str, list[CaseRecord]] = {route: [] for route in ROUTES}
    for takedown, record in zip(_cases(), records(), strict=True):
        if takedown.pk in through_network:
            removed = partner_removed.get(takedown.pk) or record.removed_at
            if removed is not None:
                # Another hotline's clock: kept within what the measures can mean.
                removed = None if removed > as_of else max(removed, record.reported_at)
            groups[ROUTES[2]].append(dataclasses.replace(record, removed_at=removed))
        elif takedown.pk in by_email:
            groups[ROUTES[1]].append(record)
        else:
            groups[ROUTES[0]].append(record)
    return {route: summarise(found, as_of) for route, found in groups.items() if found}


def summary_csv(result: Breakdown, routes: dict[str, Summary] | None = None) -> str:
    rows = to_rows(result)
    if routes:
        per_route = dataclasses.replace(result, by_country=routes, by_asn={}, by_month={})
        rows += [{**row, "group": "route"} for row in to_rows(per_route) if row["group"] == "country"]
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
