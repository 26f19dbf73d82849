"""Removal-time statistics: INHOPE's measures, per hosting country, provider (ASN) and month.

Input is plain `CaseRecord`s (the app builds them from its cases); output is `Summary` objects and,
for CSV export, flat rows.

Measures, for a group of cases:
- median and p90 of report -> removal and of first notice -> removal;
- the share of cases removed within 1, 3 and 7 days of the report, over the cases whose outcome
  at that point is known, and how many cases are still online.

Cases still online are not left out (that would make a host that never removes anything look
fast) and not counted as failures (a case reported an hour ago has had no chance yet). They are
right-censored at their age on `as_of`, and every measure comes from the Kaplan-Meier estimate of
the share still online after t. With every case removed this is exactly the plain empirical
distribution. A quantile is the first observed removal time by which at least that share was
removed ("half were removed within 6 h"), or None ("not reached") if too few were removed.

The share removed within d days is a plain count, not the estimate: of the cases whose outcome at d
days is known (removed, at whatever time, or still online after d days), those removed within d
days. A case still online and reported less than d days ago is left out of that share, because
nobody knows yet whether it will be removed in time; the estimate would instead spread the known
cases' record over it, and with one case removed in an hour and one reported an hour ago and still
online, would say "100% removed within 1 day" while half the cases are online. ``known_within``
gives each share's denominator and ``still_online`` the cases that are open, so a page can say
"1 of 1 with a known outcome; 1 still online". A share is None when no case's outcome is known.
Removal times are the first miss of the confirming run (see schedule.py), i.e. when the hotline
first saw the content gone.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from openmnr.core.takedown import TakedownError

WITHIN_DAYS = (1, 3, 7)
_EPSILON = 1e-9  # survival products are floats; 0.75 * (2/3) must still reach one half


class StatsError(TakedownError):
    """A record whose times cannot be right (removal before report, report after as_of, naive)."""


@dataclass(frozen=True)
class CaseRecord:
    reported_at: datetime
    first_notice_at: datetime | None = None
    removed_at: datetime | None = None  # None while the content is online
    country: str | None = None  # hosting country
    asn: int | None = None  # hosting provider


@dataclass(frozen=True)
class Summary:
    cases: int
    removed: int
    report_to_removal_median: timedelta | None
    report_to_removal_p90: timedelta | None
    notice_to_removal_median: timedelta | None
    notice_to_removal_p90: timedelta | None
    removed_within: dict[int, float | None]  # days -> share of the known cases removed by then
    known_within: dict[int, int] | None = None  # days -> cases whose outcome at that point is known
    still_online: int = 0  # cases not (yet) removed

    def shares(self) -> list[tuple[int, float | None, int]]:
        """(days, share removed within them, cases whose outcome is known), for each period."""
        known = self.known_within or {}
        return [(days, share, known.get(days, 0)) for days, share in self.removed_within.items()]


@dataclass(frozen=True)
class Breakdown:
    overall: Summary
    by_country: dict[str, Summary]  # ISO code, or "unknown"
    by_asn: dict[str, Summary]  # "AS64500", or "unknown"
    by_month: dict[str, Summary]  # month of the report, "2026-11" (UTC)


class _Survival:
    """Kaplan-Meier estimate from (seconds, removed) pairs; censored pairs have removed=False."""

    def __init__(self, observations: list[tuple[float, bool]]):
        self.longest = max((seconds for seconds, _ in observations), default=None)
        self.steps: list[tuple[float, float]] = []  # (time of removals, share removed by then)
        at_risk, survival = len(observations), 1.0
        observations = sorted(observations, key=lambda pair: (pair[0], not pair[1]))
        index = 0
        while index < len(observations):
            moment = observations[index][0]
            removed = censored = 0
            while index < len(observations) and observations[index][0] == moment:
                removed += observations[index][1]
                censored += not observations[index][1]
                index += 1
            if removed:
                survival *= 1 - removed / at_risk
                self.steps.append((moment, 1 - survival))
            at_risk -= removed + censored
        self.survival = survival

    def quantile(self, share: float) -> timedelta | None:
        for moment, removed_share in self.steps:
            if removed_share >= share - _EPSILON:
                return timedelta(seconds=moment)
        return None

    def share_by(self, seconds: float) -> float | None:
        # Past the longest observation the estimate is known only if nobody was left online then.
        if self.longest is None or (self.longest < seconds and self.survival > 0):
            return None
        removed_share = 0.0
        for moment, share in self.steps:
            if moment > seconds:
                break
            removed_share = share
        return removed_share


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def summarise(records: Iterable[CaseRecord], as_of: datetime) -> Summary:
    """The measures for one group of cases, as known at `as_of`. Raises StatsError."""
    if as_of.tzinfo is None:
        raise StatsError("as_of must be timezone-aware")
    from_report: list[tuple[float, bool]] = []
    from_notice: list[tuple[float, bool]] = []
    for record in records:
        _validate(record, as_of)
        end = record.removed_at or as_of
        from_report.append((_seconds(record.reported_at, end), record.removed_at is not None))
        if record.first_notice_at is not None and end >= record.first_notice_at:
            # A case removed before any notice says nothing about how hosts answer notices.
            from_notice.append((_seconds(record.first_notice_at, end), record.removed_at is not None))
    report, notice = _Survival(from_report), _Survival(from_notice)
    within, known = {}, {}
    for days in WITHIN_DAYS:
        limit = days * 86400
        # Known: removed (at any time), or still online after the whole period.
        known[days] = sum(1 for seconds, removed in from_report if removed or seconds >= limit)
        in_time = sum(1 for seconds, removed in from_report if removed and seconds <= limit)
        within[days] = in_time / known[days] if known[days] else None
    removed_count = sum(removed for _, removed in from_report)
    return Summary(
        cases=len(from_report),
        removed=removed_count,
        report_to_removal_median=report.quantile(0.5),
        report_to_removal_p90=report.quantile(0.9),
        notice_to_removal_median=notice.quantile(0.5),
        notice_to_removal_p90=notice.quantile(0.9),
        removed_within=within,
        known_within=known,
        still_online=len(from_report) - removed_count,
    )


def _validate(record: CaseRecord, as_of: datetime) -> None:
    for name in ("reported_at", "first_notice_at", "removed_at"):
        moment = getattr(record, name)
        if moment is not None and moment.tzinfo is None:
            raise StatsError(f"{name} must be timezone-aware")
        if moment is not None and moment > as_of:
            raise StatsError(f"{name} {moment.isoformat()} is after as_of {as_of.isoformat()}")
    if record.removed_at is not None and record.removed_at < record.reported_at:
        raise StatsError(f"removed_at {record.removed_at.isoformat()} is before reported_at")
    if record.first_notice_at is not None and record.first_notice_at < record.reported_at:
        raise StatsError(f"first_notice_at {record.first_notice_at.isoformat()} is before reported_at")


def _group(
    records: list[CaseRecord], key: Callable[[CaseRecord], str], as_of: datetime
) -> dict[str, Summary]:
    groups: dict[str, list[CaseRecord]] = {}
    for record in records:
        groups.setdefault(key(record), []).append(record)
    return {name: summarise(groups[name], as_of) for name in sorted(groups)}


def breakdown(records: Iterable[CaseRecord], as_of: datetime) -> Breakdown:
    """The measures overall, per hosting country, per provider (ASN) and per month of report."""
    records = list(records)
    return Breakdown(
        overall=summarise(records, as_of),
        by_country=_group(records, lambda record: record.country or "unknown", as_of),
        by_asn=_group(
            records, lambda record: f"AS{record.asn}" if record.asn is not None else "unknown", as_of
        ),
        by_month=_group(records, lambda record: record.reported_at.astimezone(UTC).strftime("%Y-%m"), as_of),
    )


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


def to_rows(result: Breakdown) -> list[dict]:
    """Flat rows (one per group) for CSV export; times in hours, shares as fractions, None empty."""
    groups = [
        ("overall", {"all": result.overall}),
        ("country", result.by_country),
        ("asn", result.by_asn),
        ("month", result.by_month),
    ]
    rows = []
    for group, summaries in groups:
        for key, summary in summaries.items():
            row = {
                "group": group,
                "key": key,
                "cases": summary.cases,
                "removed": summary.removed,
                "report_to_removal_median_h": _hours(summary.report_to_removal_median),
                "report_to_removal_p90_h": _hours(summary.report_to_removal_p90),
                "notice_to_removal_median_h": _hours(summary.notice_to_removal_median),
                "notice_to_removal_p90_h": _hours(summary.notice_to_removal_p90),
            }
            row["still_online"] = summary.still_online
            for days, share in summary.removed_within.items():
                row[f"removed_within_{days}d"] = share
                row[f"known_at_{days}d"] = (summary.known_within or {}).get(days)
            rows.append(row)
    return rows
