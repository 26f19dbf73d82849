"""An item's classification and a case's site over the API, with a key of each role: the holder
writes through the form's own service (same rules, same audit, same state checks); other analysts
read; every other role is refused; and the classify form sees what the API wrote."""

import json

import pytest
from django.test import Client

from helpers import sign_in_client
from openmnr.accounts import apikeys
from openmnr.audit.models import AuditEvent
from openmnr.hotline import triage
from openmnr.hotline.intake import ReportInput, receive_public

pytestmark = pytest.mark.django_db


def _key(user, *scopes) -> dict:
    _stored, text = apikeys.create_api_key(owner=user, name="tool", scopes=list(scopes))
    return {"Authorization": f"Bearer {text}"}


def _put(client, path, headers, body):
    return client.put(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def claimed(site, corpus, make_user):
    """(case, item, the holder's key, the holder) for a triaged case claimed by an analyst."""
    site.image("/img/c.jpg", corpus["coffee"])
    case = receive_public(ReportInput(urls=[site.page("/p.html", "/img/c.jpg")])).urls.get().case
    triage.run(case.pk)
    holder = make_user("analyst")
    sign_in_client(Client(), holder).post(f"/staff/hotline/cases/{case.pk}/claim/")
    return case, case.items.get(), _key(holder, "hotline.work_queue"), holder


def test_the_holder_classifies_over_the_api_as_with_the_form(client, claimed):
    case, item, key, holder = claimed
    path = f"/api/v1/hotline/items/{item.pk}/classification"
    assert client.get(path, headers=key).json()["assessment"] == ""

    body = {
        "assessment": "nationally_illegal",
        "category": "C",
        "age_group": "pubescent",
        "gender": "female",
        "content_type": "image",
        "flags": ["ai_generated", "self_generated"],
    }
    answer = _put(client, path, key, body)
    assert answer.status_code == 200, answer.content
    # AI-generated brings virtual, as on the form.
    assert answer.json()["flags"] == ["ai_generated", "self_generated", "virtual"]
    item.refresh_from_db()
    assert (item.assessment, item.category, item.age_group, item.gender) == (
        "nationally_illegal",
        "C",
        "pubescent",
        "female",
    )
    assert item.assessed_by == holder
    event = AuditEvent.objects.get(action="hotline.item.classify")
    assert event.detail["case"] == case.pk and event.detail["assessment"] == "nationally_illegal"

    # The same rule as the form: baseline needs a real child in a baseline age group.
    refused = _put(client, path, key, {**body, "assessment": "baseline"})
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_classification"
    assert "real child" in refused.json()["detail"]
    refused = _put(client, path, key, {**body, "assessment": "baseline", "flags": []})
    assert refused.status_code == 400 and "baseline age group" in refused.json()["detail"]
    item.refresh_from_db()
    assert item.assessment == "nationally_illegal"  # nothing written by a refusal
    assert AuditEvent.objects.filter(action="hotline.item.classify").count() == 1


def test_the_holder_describes_the_site_over_the_api(client, claimed):
    case, _item, key, _holder = claimed
    path = f"/api/v1/hotline/cases/{case.pk}/site"
    body = {"site_type": "forum", "commerciality": "commercial", "payment_methods": ["bitcoin"]}
    answer = _put(client, path, key, body)
    assert answer.status_code == 200, answer.content
    assert client.get(path, headers=key).json() == {"case": case.pk, **body}
    assert AuditEvent.objects.filter(action="hotline.case.site").count() == 1
    refused = _put(client, path, key, {**body, "site_type": "spaceship"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_classification"
    case.refresh_from_db()
    assert case.site_type == "forum"


def test_another_analyst_reads_but_may_not_write(client, claimed, make_user):
    case, item, _key_of_holder, _holder = claimed
    other = _key(make_user("analyst"), "hotline.work_queue")
    path = f"/api/v1/hotline/items/{item.pk}/classification"
    assert client.get(path, headers=other).status_code == 200
    answer = _put(client, path, other, {"assessment": "not_illegal"})
    assert answer.status_code == 403 and answer.json()["error"] == "not_case_holder"
    answer = _put(client, f"/api/v1/hotline/cases/{case.pk}/site", other, {"site_type": "forum"})
    assert answer.status_code == 403
    item.refresh_from_db()
    assert item.assessment == ""


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        ("industry_member", ["industry.submit_report"]),
        ("industry_member", ["survivors.report_outcome"]),
        ("partner_hotline", ["hotline.submit_report"]),
        ("law_enforcement", ["hotline.answer_hold"]),
    ],
)
def test_other_roles_are_refused(client, claimed, make_user, role, scopes):
    case, item, _key_of_holder, _holder = claimed
    key = _key(make_user(role), *scopes)
    writes = {
        f"/api/v1/hotline/items/{item.pk}/classification": {"assessment": "not_illegal"},
        f"/api/v1/hotline/cases/{case.pk}/site": {"site_type": "forum"},
    }
    for path, body in writes.items():
        assert client.get(path, headers=key).status_code == 403
        answer = _put(client, path, key, body)
        assert answer.status_code == 403 and answer.json()["error"] == "forbidden"
    case.refresh_from_db()
    assert case.site_type == ""
    item.refresh_from_db()
    assert item.assessment == ""


def test_an_unknown_item_is_404_and_a_finished_case_409(client, claimed):
    case, item, key, holder = claimed
    answer = _put(client, "/api/v1/hotline/items/999999/classification", key, {"assessment": "baseline"})
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert client.get("/api/v1/hotline/cases/999999/site", headers=key).status_code == 404

    path = f"/api/v1/hotline/items/{item.pk}/classification"
    assert _put(client, path, key, {"assessment": "not_illegal"}).status_code == 200
    sign_in_client(Client(), holder).post(f"/staff/hotline/cases/{case.pk}/complete/")
    case.refresh_from_db()
    assert case.state == "closed"  # the same state machine as the form: not illegal closes it
    answer = _put(client, path, key, {"assessment": "not_illegal"})
    assert answer.status_code == 409 and answer.json()["error"] == "not_in_queue"


def test_the_document_lists_every_status_the_operations_answer(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/hotline/items/{item_id}/classification", "/api/v1/hotline/cases/{case_id}/site"):
        assert {"200", "401", "403", "404", "429"} <= set(paths[path]["get"]["responses"])
        assert {"200", "400", "401", "403", "404", "409", "413", "429"} <= set(
            paths[path]["put"]["responses"]
        )
