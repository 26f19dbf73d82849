"""PDF, CSV and JSON exports: behind the export permission and step-up, audited, and saying what the
dashboard says. The PDF's executive summary is checked on the rendered page: pdfium draws it to an
image, finds where each sentence is laid out, and the pixels there must carry ink."""

import csv
import io
import json
import time
from datetime import date

import numpy
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.assessment import services
from openmnr.assessment.frameworks import framework
from openmnr.audit.models import AuditEvent
from openmnr.core.mnr import CapabilityState, action_plan

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"

EXAMPLE = {  # capability: (current, target, criteria met, owner)
    3: (1, 3, ["3.1.a", "3.1.b", "3.2.a"], "Ministry of Justice"),
    4: (1, 1, ["4.1.a", "4.1.b"], "National Police"),
    7: (0, 2, [], "National Police"),
    12: (0, 3, ["12.1.a"], "Examplestan Safer Internet Centre"),
    16: (0, 2, [], '=HYPERLINK("https://example.org")'),
    21: (0, 2, [], "Ministry of Social Affairs"),
}


@pytest.fixture
def filled(cycle, coordinator):
    for number, (current, target, met, owner) in EXAMPLE.items():
        services.record_capability(
            coordinator,
            cycle,
            number,
            current_level=current,
            target_level=target,
            criteria_met=met,
            confidence="medium",
            stakeholder=owner,
        )
    services.add_evidence(
        coordinator,
        cycle,
        3,
        kind="link",
        title="Criminal Code",
        url="https://example.org/code",
        criterion="3.2.a",
    )
    return cycle


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_report_has_cover_summary_charts_findings_and_plan(client, as_user, coordinator, filled):
    as_user(coordinator)
    response = client.get(f"{BASE}{filled.pk}/export.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == 'attachment; filename="mnr-assessment-Examplestan-2025-12-31.pdf"'
    )
    text = " ".join(_pdf_text(response.content).split())
    for expected in (
        "MNR self-assessment",
        "Examplestan",
        "Period: 2025-01-01 to 2025-12-31",
        "Draft, not signed off",
        "Summary",
        "Capabilities assessed: 6 of 21.",
        "Current level against target, by domain",
        "Criminal Justice",
        "Findings per capability",
        "12 CSEA hotline (Societal)",
        "Criminal Code",
        "no data from the platform yet",
        "Action plan",
        "Ministry of Justice",
        "3.2.b Grooming a child online",
        "4 Dedicated law enforcement at level 2 (it is at 1) (advice only)",
        "Waits for",
    ):
        assert expected in text, expected
    assert "rank" not in text.lower().replace("does not rank", "")
    event = AuditEvent.objects.get(action="assessment.export")
    assert event.detail == {"format": "pdf"} and event.actor == coordinator.username


def test_pdf_of_a_signed_off_cycle_carries_both_names_and_the_content_hash(
    client, as_user, coordinator, second_coordinator, filled, sign_off
):
    cycle = sign_off(filled)
    as_user(coordinator)
    text = " ".join(_pdf_text(client.get(f"{BASE}{filled.pk}/export.pdf").content).split())
    assert f"Signed off on {date.today():%Y-%m-%d}" in text and "not signed off" not in text
    assert f"Signed by {coordinator.username} on {date.today():%Y-%m-%d}" in text
    assert f"Countersigned by {second_coordinator.username} on {date.today():%Y-%m-%d}" in text
    assert f"SHA-256 of the signed content: {cycle.content_sha256}" in text
    assert f"content SHA-256 {cycle.content_sha256[:16]}" in text  # on every page's footer


def _ink_at(page, image, scale, text) -> float:
    """The share of dark pixels where pdfium laid out ``text`` on the page (0 when it is not there)."""
    textpage = page.get_textpage()
    found = textpage.search(text, match_case=True).get_next()
    if found is None:
        return 0.0
    first, count = found
    boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    height = page.get_height()
    crop = image.crop(
        (
            int(left * scale),
            int((height - top) * scale),
            int(right * scale) + 1,
            int((height - bottom) * scale) + 1,
        )
    )
    pixels = numpy.asarray(crop)
    return float((pixels < 128).mean()) if pixels.size else 0.0


def test_the_executive_summary_page_shows_where_we_stand_the_next_steps_and_the_data(
    client, as_user, coordinator, cycle
):
    for number, (current, target, met) in {
        3: (1, 2, ["3.1.a", "3.1.b"]),
        4: (1, 1, ["4.1.a", "4.1.b"]),
        12: (1, 2, ["12.1.a", "12.1.b"]),
    }.items():
        services.record_capability(
            coordinator, cycle, number, current_level=current, target_level=target, criteria_met=met,
            confidence="high", stakeholder="Ministry of Justice" if number == 3 else "Safer Internet Centre",
        )  # fmt: skip
    as_user(coordinator)
    pdf = pdfium.PdfDocument(client.get(f"{BASE}{cycle.pk}/export.pdf").content)
    page = pdf[1]  # right after the cover
    scale = 2
    image = page.render(scale=scale).to_pil().convert("L")
    assert int((numpy.asarray(image) < 128).sum()) > 2000  # not a blank page
    for text in (
        "Executive summary",
        "Where we stand",
        "3 of 21 capabilities assessed",
        "The five most important next steps",
        # The law first, then the hotline step that waits for it, with the reason.
        "3 Legislation: building to developing",
        "Ministry of Justice",
        "12 CSEA hotline: building to developing",
        "3 Legislation at level 2 (it is at 1)",
        "12.2.a Trained analysts assess reports",
        "What the platform's own data shows",
        "No data from the platform yet for",
    ):
        assert _ink_at(page, image, scale, text) > 0.03, text
    laid_out = page.get_textpage().get_text_range()
    assert laid_out.index("3 Legislation: building") < laid_out.index("12 CSEA hotline: building")
    # What is on no other page of the report is not counted: the summary is this page's own.
    assert "Executive summary" not in pdf[2].get_textpage().get_text_range()
    pdf.close()


def test_csv_has_one_row_per_capability(client, as_user, coordinator, filled):
    as_user(coordinator)
    response = client.get(f"{BASE}{filled.pk}/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [int(r["capability"]) for r in rows] == list(range(1, 22))
    hotline = rows[11]
    assert (hotline["name"], hotline["domain"], hotline["current_level"], hotline["target_level"], hotline["gap"]) == (
        "CSEA hotline", "Societal", "0", "3", "3"
    )  # fmt: skip
    assert (
        hotline["criteria_met"] == "12.1.a" and hotline["stakeholder"] == "Examplestan Safer Internet Centre"
    )
    assert hotline["blocked_by"] == "level 2 needs 3 at level 2 (is at 1)"
    assert rows[2]["evidence_items"] == "1" and rows[2]["next_action"].startswith("1->2 by ")
    # A stakeholder typed as a spreadsheet formula is exported as text.
    assert rows[15]["stakeholder"] == '\'=HYPERLINK("https://example.org")'


def test_json_holds_the_assessment_and_the_same_plan_as_the_core(client, as_user, coordinator, filled):
    as_user(coordinator)
    data = json.loads(client.get(f"{BASE}{filled.pk}/export.json").content)
    assert data["cycle"]["country"] == "Examplestan" and data["cycle"]["framework_version"] == "mnr-2016"
    capabilities = {c["number"]: c for c in data["capabilities"]}
    assert len(capabilities) == 21
    assert capabilities[3]["evidence"] == [
        {"kind": "link", "title": "Criminal Code", "criterion": "3.2.a", "url": "https://example.org/code"}
    ]
    assert capabilities[12]["blocked_by"] == [
        {"for_level": 2, "hard": True, "any_of": [{"capability": 3, "level": 2, "is_at": 1}]}
    ]
    assert {i["key"]: i["status"] for i in capabilities[16]["live_indicators"]} == {
        "takedown.median_hours_to_removal": "no_data",
        "takedown.share_removed_within_3_days": "no_data",
        "blocking.list_size": "no_data",
        "blocking.list_age_hours": "no_data",
        "blocking.licensees": "no_data",
        "blocking.partner_lists": "no_data",
    }
    states = {
        n: CapabilityState(current, target, frozenset(met), owner)
        for n, (current, target, met, owner) in EXAMPLE.items()
    }
    expected = action_plan(framework("mnr-2016"), states, start=date.today())
    assert [(a["capability"], a["to_level"], a["owner"], a["due"]) for a in data["plan"]["actions"]] == [
        (a.capability, a.to_level, a.owner, a.due.isoformat()) for a in expected.actions
    ]
    assert data["plan"]["held"] == []
    (database_2,) = [a for a in data["plan"]["actions"] if (a["capability"], a["to_level"]) == (7, 2)]
    assert database_2["not_planned"] == [
        {"for_level": 2, "hard": False, "any_of": [{"capability": 4, "level": 2, "is_at": 1}]}
    ]
    # Exports name organisations, not the staff who filled the assessment in.
    assert coordinator.username not in json.dumps(data)


def test_exports_need_a_fresh_second_factor(client, as_user, coordinator, filled):
    as_user(coordinator)
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    response = client.get(f"{BASE}{filled.pk}/export.csv")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    assert not AuditEvent.objects.filter(action="assessment.export").exists()


def test_who_may_export(client, as_user, make_user, filled, assign):
    analyst = make_user("analyst")
    assign(filled, "societal", analyst)
    as_user(analyst)
    assert client.get(f"{BASE}{filled.pk}/export.json").status_code == 403
    as_user(make_user("administrator"))
    assert client.get(f"{BASE}{filled.pk}/export.json").status_code == 200
    assert client.get(f"{BASE}{filled.pk}/export.xlsx").status_code == 404
