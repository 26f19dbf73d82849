"""The self-assessment workflow through HTTP: opening, assigning, recording, review, sign-off,
the per-domain rule for contributors, the read-only signed-off cycle and the full history."""

import re

import pytest

from openmnr.assessment.models import CapabilityAssessment, Comment, Cycle, HistoryEntry
from openmnr.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"


def _record(client, cycle, number, **overrides):
    data = {
        "current_level": 1,
        "target_level": 3,
        "criteria_met": [],
        "confidence": "medium",
        "stakeholder": "Ministry of Justice",
        **overrides,
    }
    return client.post(f"{BASE}{cycle.pk}/capabilities/{number}/", data)


def test_coordinator_runs_a_cycle_from_opening_to_sign_off(client, as_user, coordinator, make_user):
    analyst = make_user("analyst")
    as_user(coordinator)
    assert "Open a cycle" in client.get(BASE).content.decode()

    response = client.post(
        f"{BASE}open/",
        {
            "country": "Examplestan",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "framework_version": "mnr-2016",
        },
    )
    cycle = Cycle.objects.get(country="Examplestan")
    assert response.status_code == 302 and response["Location"] == f"{BASE}{cycle.pk}/domains/"
    assert cycle.framework_version == "mnr-2016" and cycle.state == Cycle.State.DRAFT
    assert cycle.capabilities.count() == 21 and cycle.domains.count() == 6

    page = client.get(f"{BASE}{cycle.pk}/domains/").content.decode()
    assert analyst.username in page
    response = client.post(
        f"{BASE}{cycle.pk}/domains/",
        {"domain": "societal", "societal-contributors": [analyst.pk], "societal-weight": "2"},
    )
    assert response.status_code == 302

    # The contributor assesses the hotline with the criteria met and evidence.
    as_user(analyst)
    assert "Examplestan" in client.get(BASE).content.decode()
    response = _record(
        client,
        cycle,
        12,
        current_level=1,
        target_level=3,
        criteria_met=["12.1.a", "12.1.b"],
        stakeholder="Examplestan Safer Internet Centre",
    )
    assert response.status_code == 302
    response = client.post(
        f"{BASE}{cycle.pk}/capabilities/12/evidence/",
        {
            "kind": "link",
            "title": "Hotline decree",
            "criterion": "12.1.a",
            "url": "https://example.org/decree",
        },
    )
    assert response.status_code == 302
    page = client.get(f"{BASE}{cycle.pk}/capabilities/12/").content.decode()
    assert "Hotline decree" in page and "https://example.org/decree" in page
    assert "Examplestan Safer Internet Centre" in page

    # The coordinator reviews, comments and signs off.
    as_user(coordinator)
    assert _record(client, cycle, 3, current_level=1, criteria_met=["3.1.a", "3.1.b"]).status_code == 302
    assert client.post(f"{BASE}{cycle.pk}/state/", {"to": "in_review"}).status_code == 302
    response = client.post(
        f"{BASE}{cycle.pk}/comments/", {"text": "Evidence for 12.1.b, please.", "capability": 12}
    )
    assert response.status_code == 302
    assert client.post(f"{BASE}{cycle.pk}/state/", {"to": "signed_off"}).status_code == 302
    cycle.refresh_from_db()
    assert cycle.state == Cycle.State.SIGNED_OFF and cycle.signed_off_by == coordinator

    page = client.get(f"{BASE}{cycle.pk}/").content.decode()
    assert "Signed off" in page and "Sign off</button>" not in page

    history = list(cycle.history.values_list("action", flat=True))
    assert history == [
        "open",
        "assign_domain",
        "record_capability",
        "add_evidence",
        "record_capability",
        "submit_for_review",
        "comment",
        "sign_off",
    ]
    audited = list(
        AuditEvent.objects.filter(object_type="assessment.cycle", object_id=str(cycle.pk)).values_list(
            "action", "actor"
        )
    )
    assert audited == [
        ("assessment.open", coordinator.username),
        ("assessment.assign_domain", coordinator.username),
        ("assessment.record_capability", analyst.username),
        ("assessment.add_evidence", analyst.username),
        ("assessment.record_capability", coordinator.username),
        ("assessment.submit_for_review", coordinator.username),
        ("assessment.comment", coordinator.username),
        ("assessment.sign_off", coordinator.username),
    ]


def test_history_keeps_old_and_new_values(client, as_user, coordinator, cycle):
    as_user(coordinator)
    _record(client, cycle, 1, current_level=1, target_level=2, criteria_met=["1.1.a"])
    _record(client, cycle, 1, current_level=2, target_level=2, criteria_met=["1.1.a"])
    last = HistoryEntry.objects.filter(cycle=cycle, capability=1).last()
    assert last.changes == {"current_level": [1, 2]}
    assert last.actor == coordinator
    page = client.get(f"{BASE}{cycle.pk}/history/").content.decode()
    assert "1 Leadership" in page and "current_level" in page
    # Saving the same values again records nothing new.
    count = HistoryEntry.objects.count()
    _record(client, cycle, 1, current_level=2, target_level=2, criteria_met=["1.1.a"])
    assert HistoryEntry.objects.count() == count


def test_contributor_cannot_edit_capabilities_of_other_domains(client, as_user, make_user, cycle, assign):
    analyst = make_user("analyst")
    assign(cycle, "societal", analyst)
    as_user(analyst)
    assert _record(client, cycle, 3).status_code == 403  # Legislation: policy and governance
    response = client.post(
        f"{BASE}{cycle.pk}/capabilities/3/evidence/",
        {"kind": "note", "title": "x", "note": "y"},
    )
    assert response.status_code == 403
    assert not CapabilityAssessment.objects.get(cycle=cycle, capability=3).assessed
    assert _record(client, cycle, 13).status_code == 302  # Education programme: societal
    page = client.get(f"{BASE}{cycle.pk}/capabilities/3/").content.decode()
    assert "not in a domain assigned to you" in page and 'name="current_level"' not in page
    # Only the coordinator assigns domains and moves the cycle.
    assert client.post(f"{BASE}{cycle.pk}/state/", {"to": "in_review"}).status_code == 403
    assert client.get(f"{BASE}{cycle.pk}/domains/").status_code == 403


def test_staff_not_taking_part_do_not_see_the_cycle(client, as_user, make_user, cycle):
    as_user(make_user("senior_analyst"))
    assert "Examplestan" not in client.get(BASE).content.decode()
    assert client.get(f"{BASE}{cycle.pk}/").status_code == 403
    assert client.post(f"{BASE}{cycle.pk}/comments/", {"text": "hello"}).status_code == 403


def test_administrator_may_read_but_not_edit(client, as_user, make_user, cycle):
    as_user(make_user("administrator"))
    assert client.get(f"{BASE}{cycle.pk}/").status_code == 200
    assert client.get(f"{BASE}{cycle.pk}/capabilities/12/").status_code == 200
    assert _record(client, cycle, 12).status_code == 403
    assert client.post(f"{BASE}open/", {}).status_code == 403


def test_after_sign_off_every_edit_is_refused(client, as_user, coordinator, make_user, cycle, assign):
    analyst = make_user("analyst")
    assign(cycle, "societal", analyst)
    as_user(coordinator)
    _record(client, cycle, 12, current_level=0, target_level=2)
    client.post(f"{BASE}{cycle.pk}/state/", {"to": "in_review"})
    client.post(f"{BASE}{cycle.pk}/state/", {"to": "signed_off"})
    before = list(CapabilityAssessment.objects.filter(cycle=cycle).values())
    history = HistoryEntry.objects.count()

    for user in (coordinator, analyst):
        as_user(user)
        assert _record(client, cycle, 12, current_level=4, target_level=4).status_code == 409
        response = client.post(
            f"{BASE}{cycle.pk}/capabilities/12/evidence/", {"kind": "note", "title": "late", "note": "late"}
        )
        assert response.status_code == 409
        assert client.post(f"{BASE}{cycle.pk}/comments/", {"text": "late"}).status_code == 409
        page = client.get(f"{BASE}{cycle.pk}/capabilities/12/").content.decode()
        assert "signed off: nothing can be changed" in page and 'name="current_level"' not in page
    as_user(coordinator)
    response = client.post(
        f"{BASE}{cycle.pk}/domains/",
        {"domain": "societal", "societal-contributors": [], "societal-weight": "5"},
    )
    assert response.status_code == 409
    assert client.post(f"{BASE}{cycle.pk}/state/", {"to": "draft"}).status_code == 409

    assert list(CapabilityAssessment.objects.filter(cycle=cycle).values()) == before
    assert HistoryEntry.objects.count() == history
    assert not Comment.objects.filter(text="late").exists()


def test_in_review_levels_are_frozen_but_comments_are_taken(client, as_user, coordinator, cycle):
    as_user(coordinator)
    client.post(f"{BASE}{cycle.pk}/state/", {"to": "in_review"})
    response = _record(client, cycle, 1)
    assert response.status_code == 409 and "return it to draft" in response.content.decode()
    assert client.post(f"{BASE}{cycle.pk}/comments/", {"text": "Looks right."}).status_code == 302
    assert "Looks right." in client.get(f"{BASE}{cycle.pk}/").content.decode()
    client.post(f"{BASE}{cycle.pk}/state/", {"to": "draft"})
    assert _record(client, cycle, 1).status_code == 302


def test_bad_input_is_shown_on_the_form(client, as_user, coordinator, cycle):
    as_user(coordinator)
    response = _record(client, cycle, 12, criteria_met=["3.1.a"], current_level=7)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    response = client.post(
        f"{BASE}open/",
        {
            "country": "Examplestan",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "framework_version": "mnr-2016",
        },
    )
    assert response.status_code == 400 and "not signed off" in response.content.decode()
    assert client.get(f"{BASE}{cycle.pk}/capabilities/99/").status_code == 404


def test_gaps_blocked_capabilities_and_the_ordered_plan_are_shown(client, as_user, coordinator, cycle):
    """The worked example of docs/assessment.md, entered through the pages."""
    as_user(coordinator)
    client.post(f"{BASE}{cycle.pk}/domains/", {"domain": "societal", "societal-weight": "2"})
    entries = {
        1: (2, 3, ["1.1.a", "1.1.b", "1.2.a", "1.2.b", "1.3.a"], "Office of the Prime Minister"),
        2: (0, 2, [], "National Statistics Office"),
        3: (1, 3, ["3.1.a", "3.1.b", "3.2.a"], "Ministry of Justice"),
        4: (1, 1, ["4.1.a", "4.1.b"], "National Police"),
        7: (0, 2, [], "National Police"),
        12: (0, 3, ["12.1.a"], "Examplestan Safer Internet Centre"),
        16: (0, 2, [], "Telecoms Regulator"),
        21: (0, 2, [], "Ministry of Social Affairs"),
    }
    for number, (current, target, met, owner) in entries.items():
        response = _record(
            client,
            cycle,
            number,
            current_level=current,
            target_level=target,
            criteria_met=met,
            stakeholder=owner,
        )
        assert response.status_code == 302, number

    page = client.get(f"{BASE}{cycle.pk}/").content.decode()
    assert "<strong>14</strong> levels to reach the targets" in page  # gaps 1, 2, 2, 0, 2, 3, 2, 2
    assert "3 Legislation</a> waits for 21 Universal terminology to reach level 1 (it is at 0)" in page
    assert "16 Takedown procedures</a> waits for 12 CSEA hotline to reach level 2 (it is at 0)" in page

    plan = page.split('<table class="plan">')[1].split("</table>")[0]
    steps = re.findall(r">(\d+) [^<]+</a></td>\s*<td[^>]*>(\d) → (\d)</td>\s*<td>([^<]+)</td>", plan)
    assert [(int(n), int(a), int(b)) for n, a, b, _ in steps] == [
        (21, 0, 1), (2, 0, 1), (1, 2, 3),
        (3, 1, 2), (2, 1, 2), (21, 1, 2),
        (12, 0, 1), (3, 2, 3),
        (12, 1, 2),
        (12, 2, 3), (16, 0, 1),
        (16, 1, 2),
    ]  # fmt: skip
    assert steps[3][3] == "Ministry of Justice"
    assert "3.2.b" in plan and "Grooming a child online" in plan  # the next unmet criterion of 3 at level 2
    assert (
        "7 Access to image databases needs 4 Dedicated law enforcement at level 2; the plan takes it to 1"
        in page
    )


def test_contributor_sees_where_level_and_criteria_disagree(client, as_user, coordinator, cycle):
    as_user(coordinator)
    _record(client, cycle, 12, current_level=2, criteria_met=["12.1.a"])
    page = client.get(f"{BASE}{cycle.pk}/capabilities/12/").content.decode()
    assert "support level 0, but the current level is recorded as 2" in page


def test_api_lists_the_cycles_the_caller_may_see(client, as_user, coordinator, make_user, cycle):
    as_user(coordinator)
    data = client.get("/api/v1/assessment/cycles").json()
    assert [(c["country"], c["state"], c["framework_version"]) for c in data] == [
        ("Examplestan", "draft", "mnr-2016")
    ]
    as_user(make_user("analyst"))
    assert client.get("/api/v1/assessment/cycles").json() == []
