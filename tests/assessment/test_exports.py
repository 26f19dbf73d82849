"""PDF, CSV and JSON exports: behind the export permission and step-up, audited, and saying what the
dashboard says."""

import csv
import io
import json
import time
from datetime import date

import pytest
from pypdf import PdfReader

from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.assessment import service
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
        service.record_capability(
            coordinator,
            cycle,
            number,
            current_level=current,
            target_level=target,
            criteria_met=met,
            confidence="medium",
            stakeholder=owner,
        )
    service.add_evidence(
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
        "Held: 7 Access to image databases needs 4 Dedicated law enforcement at level 2",
    ):
        assert expected in text, expected
    assert "rank" not in text.lower().replace("does not rank", "")
    event = AuditEvent.objects.get(action="assessment.export")
    assert event.detail == {"format": "pdf"} and event.actor == coordinator.username


def test_pdf_of_a_signed_off_cycle_says_so(client, as_user, coordinator, filled):
    service.transition(coordinator, filled, "in_review")
    service.transition(coordinator, filled, "signed_off")
    as_user(coordinator)
    text = _pdf_text(client.get(f"{BASE}{filled.pk}/export.pdf").content)
    assert f"Signed off on {date.today():%Y-%m-%d}" in text and "not signed off" not in text


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
    assert hotline["blocked_by"] == "3 (needs level 2, is at 1)"
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
    assert capabilities[12]["blocked_by"] == [{"prerequisite": 3, "needed_level": 2, "level": 1}]
    assert {i["key"]: i["status"] for i in capabilities[16]["live_indicators"]} == {
        "takedown.median_hours_to_removal": "no_data",
        "takedown.share_removed_within_3_days": "no_data",
    }
    states = {
        n: CapabilityState(current, target, frozenset(met), owner)
        for n, (current, target, met, owner) in EXAMPLE.items()
    }
    expected = action_plan(framework("mnr-2016"), states, start=date.today())
    assert [(a["capability"], a["to_level"], a["owner"], a["due"]) for a in data["plan"]["actions"]] == [
        (a.capability, a.to_level, a.owner, a.due.isoformat()) for a in expected.actions
    ]
    assert data["plan"]["held"] == [
        {"capability": 7, "prerequisite": 4, "needed_level": 2, "planned_level": 1}
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
