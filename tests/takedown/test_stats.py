"""Removal statistics: every case's report, assessment, first notice, acknowledgement and removal
times; median and p90 overall, per hosting country, provider and month; the share removed within
1, 3 and 7 days; charts as server-rendered SVG with text alternatives; CSV exports."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from openmnr.hotline.models import Case
from openmnr.takedown import services
from openmnr.takedown.models import TakedownCase

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def history(assessed_case):
    """Four cases with known times: removed after 5 h, 25 h and 73 h, and one still online."""
    now = timezone.now()
    rows = [
        # (days ago reported, hours to first notice, hours to removal or None, country, ASN)
        (10, 1, 5, "PT", 64500),
        (10, 1, 25, "PT", 64500),
        (9, 2, 73, "DE", 64501),
        (8, 1, None, "DE", 64501),
    ]
    for number, (days, notice, removal, country, asn) in enumerate(rows):
        case = assessed_case(f"https://example.org/{number}")
        reported = now - timedelta(days=days)
        Case.objects.filter(pk=case.pk).update(opened_at=reported, assessed_at=reported + H / 2)
        services.open_case(case.pk, now)
        TakedownCase.objects.filter(pk=case.pk).update(
            first_notice_at=reported + notice * H,
            acknowledged_at=reported + notice * H + H,
            removed_at=reported + removal * H if removal else None,
            status="removed" if removal else "notices",
            hosting_country=country,
            asn=asn,
        )


def test_the_page_shows_the_measures_with_charts_and_their_text(history, staff_client):
    client, _ = staff_client("national_coordinator")
    response = client.get("/staff/takedown/statistics/")
    assert response.status_code == 200
    html = response.content.decode()
    overall = html.split('id="overall"')[1].split("</ul>")[0]
    assert "<strong>4</strong> cases" in overall and "<strong>3</strong> removed" in overall
    assert "<strong>25.0 h</strong> median, report → removal" in overall
    assert "<strong>not reached</strong> p90, report → removal" in overall  # one of four still online

    assert html.count("<svg") >= 7 and 'role="img"' in html
    descriptions = re.findall(r"<desc[^>]*>(.*?)</desc>", html)
    assert any("PT: median 5.0 h, 90th percentile 25.0 h" in d for d in descriptions)
    assert any("DE: median 3.0 d, 90th percentile not reached" in d for d in descriptions)
    assert any("AS64501: median 3.0 d" in d for d in descriptions)
    assert any("all cases: within 1 day 25%, within 3 days 50%, within 7 days 75%" in d for d in descriptions)
    assert "style=" not in html and "<script>" not in html
    assert "/static/takedown/takedown.css" in html


def test_csv_exports_the_figures_and_every_case_without_urls(history, staff_client):
    client, _ = staff_client("analyst")
    response = client.get("/staff/takedown/statistics/summary.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = {(row["group"], row["key"]): row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows[("overall", "all")]["report_to_removal_median_h"] == "25.0"
    assert rows[("overall", "all")]["removed_within_3d"] == "0.5"
    assert rows[("country", "PT")]["report_to_removal_p90_h"] == "25.0"
    assert rows[("asn", "AS64501")]["report_to_removal_median_h"] == "73.0"
    assert rows[("overall", "all")]["notice_to_removal_median_h"] == "24.0"
    assert len([key for key in rows if key[0] == "month"]) >= 1

    cases = list(
        csv.DictReader(io.StringIO(client.get("/staff/takedown/statistics/cases.csv").content.decode()))
    )
    assert len(cases) == 4
    assert set(cases[0]) >= {"reported_at", "assessed_at", "first_notice_at", "acknowledged_at", "removed_at"}
    assert all(row["first_notice_at"] and row["acknowledged_at"] for row in cases)
    assert "example.org" not in client.get("/staff/takedown/statistics/cases.csv").content.decode()


def test_the_api_gives_the_same_rows(history, staff_client):
    client, _ = staff_client("senior_analyst")
    rows = client.get("/api/v1/takedown/statistics").json()
    overall = next(row for row in rows if row["group"] == "overall")
    assert overall["cases"] == 4 and overall["report_to_removal_median_h"] == 25.0


def test_roles_without_the_permission_cannot_read_them(staff_client):
    client, _ = staff_client("law_enforcement")
    assert client.get("/staff/takedown/statistics/").status_code == 403
    assert client.get("/staff/takedown/statistics/summary.csv").status_code == 403
