"""What administrators see of the page's activity (a flood among it), the MNR indicators for
victim support, and the demo case."""

import io
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from openmnr.assessment import indicators
from openmnr.survivors import intake, outcomes
from openmnr.survivors.models import Case, Outcome

pytestmark = pytest.mark.django_db


def test_a_flood_shows_on_the_activity_page(staff_client, open_case, post_json, photos, settings):
    # Four pictures: however they fall across an hour boundary, one hour holds two or more.
    settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR = 2
    settings.SURVIVORS_CASES_PER_DAY = 2
    client, _ = staff_client("administrator")
    page = client.get("/staff/survivors/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'id="flood"' not in page.content.decode()
    open_case(photos[:3])
    open_case(photos[3:4])  # arrives during the flood: held
    refused = post_json("/take-it-down/cases/", {"items": photos[4:5], "pictured": True, "under_18": True})
    assert refused.status_code == 429
    page = client.get("/staff/survivors/").content.decode()
    assert 'id="flood"' in page and "4 pictures and videos arrived in the last hour" in page
    last_day = page.split("<caption>Last 24 hours</caption>")[1].split("</table>")[0]
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", last_day)] == [2, 4, 1, 1, 0]
    hours = page.split('id="hours"')[1]
    assert re.search(r'<tr class="flood"><th scope="row">[^<]*<span class="tag bad">flood</span>', hours)


def test_activity_is_for_roles_that_watch_the_page(staff_client):
    for role, status in (
        ("administrator", 200),
        ("national_coordinator", 200),
        ("analyst", 200),
        ("law_enforcement", 403),
    ):
        client, _ = staff_client(role)
        assert client.get("/staff/survivors/").status_code == status, role
    client, _ = staff_client("administrator")
    assert "Take it down: activity" in client.get("/staff/").content.decode()


def test_indicators_count_cases_matches_and_removals(photos, make_user):
    today = date.today()
    assert indicators.compute("survivors.cases_opened", today, today) is None  # no data at all yet
    receipt = intake.open_case(photos[:2], pictured=True, under_18=True)
    intake.open_case(photos[2:3], pictured=True, under_18=True)
    Case.objects.filter(pk=receipt.case_id).update(opened_at=timezone.now() - timedelta(days=40))
    industry = make_user("industry_member")
    outcomes.report(
        [{"md5": photos[0]["md5"], "outcome": "removed"}, {"md5": photos[1]["md5"], "outcome": "kept"}],
        user=industry,
    )
    Outcome.objects.filter(result="kept").update(reported_at=timezone.now() - timedelta(days=40))
    last_week = today - timedelta(days=7)
    assert indicators.compute("survivors.cases_opened", last_week, today).value == 1
    assert indicators.compute("survivors.cases_opened", today - timedelta(days=60), today).value == 2
    assert indicators.compute("survivors.matches_reported", last_week, today).value == 1
    assert indicators.compute("survivors.matches_reported", today - timedelta(days=60), today).value == 2
    assert indicators.compute("survivors.removals_reported", today - timedelta(days=60), today).value == 1
    value = indicators.compute("survivors.removals_reported", last_week, today)
    assert (value.unit, value.source_url) == ("count", "/staff/survivors/")


def test_the_demo_case_reads_with_its_printed_code(client, settings, tmp_path):
    from openmnr.web.demo import load_demo

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    load_demo(out)
    code = re.search(r"code ([0-9A-Z-]{24}): read it", out.getvalue()).group(1)
    again = io.StringIO()
    load_demo(again)
    assert f"code {code}" in again.getvalue() and Case.objects.count() == 1
    status = client.post("/take-it-down/status/", {"code": code}).context["status"]
    assert (status.active, status.matches, status.removed) == (2, 1, 1)
