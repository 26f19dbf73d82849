"""Removal-time statistics: median, p90 and the share removed within 1, 3 and 7 days."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.core.takedown.stats import CaseRecord, StatsError, breakdown, summarise, to_rows

T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def removed_after(hours, *, notice_after=None, **changes) -> CaseRecord:
    return CaseRecord(
        reported_at=T0,
        first_notice_at=T0 + notice_after * HOUR if notice_after is not None else None,
        removed_at=T0 + hours * HOUR,
        **changes,
    )


def test_all_removed_median_and_p90_are_the_observed_times():
    summary = summarise([removed_after(hours) for hours in range(1, 11)], AS_OF)
    assert summary.cases == summary.removed == 10
    assert summary.report_to_removal_median == 5 * HOUR  # half were removed within 5 h
    assert summary.report_to_removal_p90 == 9 * HOUR


def test_shares_removed_within_one_three_and_seven_days():
    records = [removed_after(h) for h in (2, 20, 30, 60, 100, 200)] + [CaseRecord(reported_at=T0)]
    summary = summarise(records, AS_OF)
    assert summary.removed_within == {
        1: pytest.approx(2 / 7),
        3: pytest.approx(4 / 7),
        7: pytest.approx(5 / 7),
    }


def test_content_still_online_counts_against_the_host():
    # Two of four removed quickly, two still online after eight weeks: the median is the second
    # removal, and 90 % removal was never reached.
    records = [removed_after(1), removed_after(2), CaseRecord(reported_at=T0), CaseRecord(reported_at=T0)]
    summary = summarise(records, AS_OF)
    assert summary.report_to_removal_median == 2 * HOUR
    assert summary.report_to_removal_p90 is None
    assert summary.removed == 2


def test_a_case_reported_minutes_ago_is_not_a_failure():
    records = [removed_after(hours) for hours in range(1, 10)]
    records.append(CaseRecord(reported_at=AS_OF - 30 * timedelta(minutes=1)))
    summary = summarise(records, AS_OF)
    assert summary.report_to_removal_p90 == 9 * HOUR
    assert summary.removed_within[1] == pytest.approx(1.0)


def test_a_share_is_unknown_until_some_case_is_old_enough():
    young = [CaseRecord(reported_at=AS_OF - 2 * DAY, removed_at=AS_OF - 2 * DAY + HOUR)]
    young.append(CaseRecord(reported_at=AS_OF - 2 * DAY))
    summary = summarise(young, AS_OF)
    assert summary.removed_within[1] == pytest.approx(0.5)
    # At 3 and 7 days only the removed case's outcome is known; the other is online, and said so.
    assert summary.removed_within[3] == 1.0 and summary.known_within[3] == 1
    assert summary.still_online == 1
    nothing_known = summarise([CaseRecord(reported_at=AS_OF - HOUR)], AS_OF)
    assert nothing_known.removed_within == {1: None, 3: None, 7: None}
    assert nothing_known.known_within == {1: 0, 3: 0, 7: 0} and nothing_known.still_online == 1


def test_every_figure_of_cases_with_known_timings():
    """Four cases: removed 5 h after the report (notice at 1 h), removed after 2 days (notice at 2 h),
    online for 10 days (notice at 1 h), and reported an hour ago. The young case is left out of
    every share (its outcome is unknown) but counted as still online; "100% within a day" is
    never claimed while cases are online."""
    records = [
        CaseRecord(AS_OF - 10 * DAY, AS_OF - 10 * DAY + HOUR, AS_OF - 10 * DAY + 5 * HOUR),
        CaseRecord(AS_OF - 10 * DAY, AS_OF - 10 * DAY + 2 * HOUR, AS_OF - 8 * DAY),
        CaseRecord(AS_OF - 10 * DAY, AS_OF - 10 * DAY + HOUR),
        CaseRecord(AS_OF - HOUR),
    ]
    summary = summarise(records, AS_OF)
    assert (summary.cases, summary.removed, summary.still_online) == (4, 2, 2)
    assert summary.known_within == {1: 3, 3: 3, 7: 3}
    assert summary.removed_within[1] == pytest.approx(1 / 3)
    assert summary.removed_within[3] == pytest.approx(2 / 3)
    assert summary.removed_within[7] == pytest.approx(2 / 3)
    # Kaplan-Meier: the young case leaves the risk set at 1 h, so A removes 1/3 and B 2/3 in all.
    assert summary.report_to_removal_median == 2 * DAY
    assert summary.report_to_removal_p90 is None
    assert summary.notice_to_removal_median == 2 * DAY - 2 * HOUR
    assert summary.notice_to_removal_p90 is None
    assert summary.shares() == [
        (1, pytest.approx(1 / 3), 3),
        (3, pytest.approx(2 / 3), 3),
        (7, pytest.approx(2 / 3), 3),
    ]


def test_notice_to_removal_leaves_out_cases_removed_before_any_notice():
    records = [
        removed_after(5, notice_after=1),  # 4 h after the notice
        removed_after(9, notice_after=1),  # 8 h after the notice
        removed_after(3, notice_after=6),  # gone before the notice: not a host's answer to it
        removed_after(2),  # no notice at all (forwarded abroad)
    ]
    summary = summarise(records, AS_OF)
    assert summary.notice_to_removal_median == 4 * HOUR
    assert summary.notice_to_removal_p90 == 8 * HOUR
    assert summary.report_to_removal_median == 3 * HOUR


def test_breakdown_by_country_provider_and_month_and_csv_rows():
    records = [
        removed_after(2, country="PT", asn=64500),
        removed_after(4, country="PT", asn=64500),
        removed_after(48, country="BR", asn=64501),
        CaseRecord(reported_at=T0 + 40 * DAY, country=None, asn=None),
    ]
    result = breakdown(records, AS_OF)
    assert set(result.by_country) == {"BR", "PT", "unknown"}
    assert result.by_country["PT"].report_to_removal_median == 2 * HOUR
    assert result.by_asn["AS64501"].report_to_removal_median == 48 * HOUR
    assert set(result.by_month) == {"2026-10", "2026-11"}
    assert result.by_month["2026-11"].removed == 0

    rows = to_rows(result)
    assert rows[0]["group"] == "overall" and rows[0]["cases"] == 4
    pt = next(row for row in rows if row["group"] == "country" and row["key"] == "PT")
    assert pt["report_to_removal_median_h"] == 2.0 and pt["removed_within_1d"] == 1.0
    assert len(rows) == 1 + 3 + 3 + 2


def test_impossible_records_are_refused():
    with pytest.raises(StatsError, match="before reported_at"):
        summarise([CaseRecord(reported_at=T0, removed_at=T0 - HOUR)], AS_OF)
    with pytest.raises(StatsError, match="after as_of"):
        summarise([CaseRecord(reported_at=AS_OF + HOUR)], AS_OF)
    with pytest.raises(StatsError, match="timezone-aware"):
        summarise([CaseRecord(reported_at=datetime(2026, 10, 1))], AS_OF)


def test_no_cases_gives_empty_measures():
    summary = summarise([], AS_OF)
    assert summary.cases == 0 and summary.report_to_removal_median is None
    assert summary.removed_within == {1: None, 3: None, 7: None}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30 * 24), min_size=1, max_size=40))
def test_with_every_case_removed_the_measures_are_the_plain_empirical_ones(hours):
    summary = summarise([removed_after(h) for h in hours], AS_OF)
    ordered = sorted(hours)
    assert summary.report_to_removal_median == ordered[math.ceil(0.5 * len(ordered)) - 1] * HOUR
    assert summary.report_to_removal_p90 == ordered[math.ceil(0.9 * len(ordered)) - 1] * HOUR
    for days in (1, 3, 7):
        assert summary.removed_within[days] == pytest.approx(sum(h <= 24 * days for h in hours) / len(hours))
