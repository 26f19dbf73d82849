"""Live indicators: filled from the platform's data over the cycle's period, "no data" when the
platform holds none, frozen at sign-off."""

import html
from datetime import UTC, date, datetime

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model

from openmnr.assessment import indicators, providers
from openmnr.assessment.frameworks import framework
from openmnr.assessment.indicators import IndicatorValue, period_bounds

from .conftest import sign_through_pages

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"
KEY = "hotline.reports_received"


def _live_rows(page: str) -> dict[str, str]:
    """Indicator text -> what the dashboard's live table shows for it."""
    table = page.split('<h2 id="live">')[1].split("</table>")[0]
    rows = {}
    for row in table.split("<tr>")[2:]:
        cells = row.split("<td>")
        rows[html.unescape(cells[2].split("</td>")[0])] = " ".join(cells[3].split("</td>")[0].split())
    return rows


@pytest.fixture
def accounts_provider():
    """A provider over data the test inserts: accounts created in the period stand in for reports."""

    def provider(start, end):
        users = get_user_model().objects
        if not users.exists():
            return None
        since, until = period_bounds(start, end)
        count = users.filter(date_joined__gte=since, date_joined__lt=until).count()
        return IndicatorValue(count, "count", (start, end), datetime.now(UTC), "/staff/audit/")

    indicators.register(KEY, provider)
    yield provider
    indicators.unregister(KEY)


def _joined(make_user, when: datetime, n: int = 1):
    for _ in range(n):
        user = make_user(None)
        user.date_joined = when
        user.save(update_fields=["date_joined"])


def test_without_platform_data_every_live_indicator_says_so(client, as_user, coordinator, cycle):
    as_user(coordinator)
    rows = _live_rows(client.get(f"{BASE}{cycle.pk}/").content.decode())
    live = framework("mnr-2016").live_indicators()
    assert {i.key.split(".")[0] for i in live} == {
        "hotline",
        "takedown",
        "banks",
        "industry",
        "survivors",
        "blocking",
    }
    assert set(rows) == {i.text for i in live}
    assert all(
        shown == '<span class="nodata">no data from the platform yet</span>' for shown in rows.values()
    )
    page = client.get(f"{BASE}{cycle.pk}/capabilities/16/").content.decode()
    assert page.count("no data from the platform yet") == 6  # removal and blocking


# The keys other apps fill by registering a provider (industry reports, survivors' self-reports,
# the blocking list); until they do, the page says there is no data, never a number.
REGISTERED_BY_OTHER_APPS = {
    17: {
        "industry.reports_received",
        "industry.providers_reporting",
        "industry.new_material_share",
        "industry.first_police_view_hours",
    },
    8: {"survivors.cases_opened", "survivors.matches_reported", "survivors.removals_reported"},
    16: {"blocking.list_size", "blocking.list_age_hours", "blocking.licensees", "blocking.partner_lists"},
}


def test_keys_other_apps_fill_are_in_the_framework_and_show_no_data_until_registered(
    client, as_user, coordinator, cycle
):
    fw = framework("mnr-2016")
    installed = {config.label for config in django_apps.get_app_configs()}
    for number, keys in REGISTERED_BY_OTHER_APPS.items():
        assert keys <= {i.key for i in fw.capability(number).indicators if i.live}
        for key in keys:
            # The app that owns the data provides the figure once it is installed, and only then.
            owner_installed = key.split(".")[0] in installed
            assert (indicators.provider_for(key) is not None) == owner_installed, key
    as_user(coordinator)
    rows = _live_rows(client.get(f"{BASE}{cycle.pk}/").content.decode())
    assert rows["URLs on the blocking list at the end of the period"].endswith(
        "no data from the platform yet</span>"
    )

    def list_size(start, end):
        return IndicatorValue(1234, "count", (start, end), datetime.now(UTC))

    installed_provider = indicators.provider_for("blocking.list_size")
    indicators.register("blocking.list_size", list_size)
    try:
        rows = _live_rows(client.get(f"{BASE}{cycle.pk}/").content.decode())
        assert (
            '<strong class="live-value">1,234</strong>'
            in rows["URLs on the blocking list at the end of the period"]
        )
    finally:
        # Put the blocking app's own provider back for the tests that run after this one.
        indicators.unregister("blocking.list_size")
        if installed_provider is not None:
            indicators.register("blocking.list_size", installed_provider)


def test_default_providers_give_no_figure_when_the_platform_holds_no_data():
    for key, provider in providers.DEFAULTS.items():
        assert indicators.provider_for(key) is provider
        assert provider(date(2025, 1, 1), date(2025, 12, 31)) is None, key
    # The industry app registers its own providers: no figure while it holds no industry report.
    assert indicators.provider_for("industry.reports_received")(date(2025, 1, 1), date(2025, 12, 31)) is None


def test_a_provider_with_data_fills_the_indicator_for_the_cycle_period(
    client, as_user, coordinator, cycle, make_user, accounts_provider
):
    _joined(make_user, datetime(2025, 3, 1, tzinfo=UTC), 3)
    _joined(make_user, datetime(2024, 12, 31, 23, 59, tzinfo=UTC))  # the day before the period
    _joined(make_user, datetime(2026, 1, 1, tzinfo=UTC))  # the day after
    as_user(coordinator)
    page = client.get(f"{BASE}{cycle.pk}/").content.decode()
    shown = _live_rows(page)["Reports received by the hotline in the period"]
    assert '<strong class="live-value">3</strong>' in shown
    assert "2025-01-01 to 2025-12-31" in shown and "live, computed" in shown
    assert '<a href="/staff/audit/">source</a>' in shown
    # The other indicators still say they have no data.
    assert _live_rows(page)["Reports assessed by the hotline in the period"].endswith(
        "no data from the platform yet</span>"
    )
    assert "3" in client.get(f"{BASE}{cycle.pk}/capabilities/12/").content.decode().split('id="live"')[1]


def test_signing_freezes_the_figures(
    client, as_user, coordinator, second_coordinator, cycle, make_user, accounts_provider
):
    _joined(make_user, datetime(2025, 6, 1, tzinfo=UTC), 2)
    sign_through_pages(client, as_user, cycle, coordinator, second_coordinator)
    _joined(make_user, datetime(2025, 6, 2, tzinfo=UTC), 5)  # data that arrives after sign-off
    shown = _live_rows(client.get(f"{BASE}{cycle.pk}/").content.decode())[
        "Reports received by the hotline in the period"
    ]
    assert '<strong class="live-value">2</strong>' in shown and "frozen when signed" in shown


def test_a_broken_provider_is_reported_not_hidden(client, as_user, coordinator, cycle):
    def broken(start, end):
        raise RuntimeError("model changed")

    indicators.register(KEY, broken)
    try:
        as_user(coordinator)
        response = client.get(f"{BASE}{cycle.pk}/")
        assert response.status_code == 200
        assert (
            "could not be computed"
            in _live_rows(response.content.decode())["Reports received by the hotline in the period"]
        )
    finally:
        indicators.unregister(KEY)
    assert indicators.provider_for(KEY) is providers.reports_received


def test_a_running_period_is_measured_up_to_now():
    start, end = period_bounds(date(2025, 1, 1), date(2999, 12, 31))
    assert start == datetime(2025, 1, 1, tzinfo=UTC)
    assert end <= datetime.now(UTC)
    assert period_bounds(date(2025, 1, 1), date(2025, 1, 31))[1] == datetime(2025, 2, 1, tzinfo=UTC)
