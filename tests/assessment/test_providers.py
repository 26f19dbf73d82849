"""The default live-indicator providers against the hotline, takedown and banks apps' own tables:
rows are inserted with the fields those apps record, and the figures must follow."""

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from openmnr.assessment import providers

pytestmark = pytest.mark.django_db

PERIOD = (date(2025, 1, 1), date(2025, 12, 31))
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _case(n, *, opened, assessed=None, state="received"):
    from openmnr.hotline.models import Case

    url = f"https://example.org/page/{n}"
    return Case.objects.create(
        url=url,
        url_sha256=hashlib.sha256(url.encode()).hexdigest(),
        state=state,
        opened_at=opened,
        assessed_at=assessed,
    )


def test_hotline_reports_received_assessed_and_median_time_to_assessment():
    from openmnr.hotline.models import Submission

    for n, when in enumerate([T0, T0 + timedelta(days=30), datetime(2024, 12, 31, 23, tzinfo=UTC)]):
        Submission.objects.create(
            tracking_code=f"CODE{n}",
            source="public",
            found_where="web_page",
            content_kind="csam",
            received_at=when,
        )
    _case(1, opened=T0, assessed=T0 + timedelta(hours=2), state="assessed")
    _case(2, opened=T0, assessed=T0 + timedelta(hours=4), state="assessed")
    _case(3, opened=T0, assessed=T0 + timedelta(hours=30), state="assessed")
    _case(4, opened=T0)  # not assessed yet
    _case(
        5, opened=datetime(2024, 6, 1, tzinfo=UTC), assessed=datetime(2024, 6, 2, tzinfo=UTC), state="closed"
    )

    received = providers.reports_received(*PERIOD)
    assert received.value == 2 and received.period == PERIOD and received.source_url == "/staff/hotline/"
    assert providers.reports_assessed(*PERIOD).value == 3
    assert providers.median_hours_to_assessment(*PERIOD).value == 4.0
    # A period with data elsewhere but none inside it: a true zero, and no median.
    assert providers.reports_received(date(2023, 1, 1), date(2023, 12, 31)).value == 0
    none = providers.median_hours_to_assessment(date(2023, 1, 1), date(2023, 12, 31))
    assert none.value is None and none.note == "no report was assessed in the period"


def test_takedown_median_and_share_removed_within_3_days():
    from openmnr.takedown.models import TakedownCase

    removal_hours = [10, 20, 80, 100]  # two of four within 3 days (72 h)
    for n, hours in enumerate(removal_hours):
        case = _case(n, opened=T0, assessed=T0, state="actioned")
        TakedownCase.objects.create(
            case=case, schedule={}, opened_at=T0, first_notice_at=T0, removed_at=T0 + timedelta(hours=hours)
        )
    median = providers.median_hours_to_removal(*PERIOD)
    assert (
        median.value == 20.0 and median.unit == "hours" and median.source_url == "/staff/takedown/statistics/"
    )
    share = providers.share_removed_within_3_days(*PERIOD)
    assert share.value == 50.0 and share.unit == "percent"
    empty = providers.median_hours_to_removal(date(2023, 1, 1), date(2023, 12, 31))
    assert empty.value is None and empty.note == "no case reported in the period"


def test_bank_size_at_period_end_and_confirmed_additions(make_user):
    from openmnr.banks.models import Bank, BankEntry

    analyst = make_user("analyst")
    bank = Bank.objects.create(name="Confirmed", purpose="confirmed_csam")

    def entry(n, *, activated=None, disabled=None, status="active"):
        BankEntry.objects.create(
            bank=bank,
            signal_type="md5",
            value=hashlib.md5(str(n).encode()).hexdigest(),
            classification="baseline",
            status=status,
            proposed_by=analyst,
            activated_at=activated,
            disabled_at=disabled,
        )

    entry(1, activated=datetime(2024, 5, 1, tzinfo=UTC))
    entry(2, activated=T0)
    entry(3, activated=T0, disabled=T0 + timedelta(days=10), status="disabled")
    entry(4, activated=T0, disabled=datetime(2026, 2, 1, tzinfo=UTC), status="disabled")  # after the period
    entry(5, status="pending")  # awaiting the second analyst
    assert providers.hash_count(*PERIOD).value == 3  # 1, 2 and 4 were held on 31 December 2025
    assert providers.confirmed_additions(*PERIOD).value == 3  # 2, 3 and 4
