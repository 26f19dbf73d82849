"""POST /api/v1/survivors/outcomes over HTTP with a real client (httpx against the live server):
a platform that matched a self-reported picture reports what it did, and the person's count moves."""

import httpx
import pytest

from openmnr.audit.models import AuditEvent
from openmnr.survivors import cases, intake
from openmnr.survivors.models import Outcome

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, industry_key):
    text, _ = industry_key
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {text}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def case_code(photos):
    receipt = intake.open_case(photos[:2], pictured=True, under_18=True)
    return receipt.code


def count(code):
    return cases.status_of(intake.find(code))


def test_a_platform_matches_then_reports_removals_and_the_count_updates(api, case_code, photos):
    match = api.post("/api/v1/match", json={"pdq": photos[0]["pdq"]})
    assert match.status_code == 200
    assert match.json() == {"results": [{"match": True, "action": "survivor_reported"}]}
    body = {
        "items": [
            {"pdq": photos[0]["pdq"], "outcome": "removed", "reference": "upload-17"},
            {"md5": photos[1]["md5"], "outcome": "kept", "reference": "upload-18"},
            {"md5": "0" * 32, "outcome": "removed"},
        ]
    }
    response = api.post("/api/v1/survivors/outcomes", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "results": [
            {"matched": True, "counted": True},
            {"matched": True, "counted": True},
            {"matched": False, "counted": False},
        ]
    }
    status = count(case_code)
    assert (status.matches, status.removed, status.kept) == (2, 1, 1)
    # A retry with the same reference is not counted twice.
    again = api.post("/api/v1/survivors/outcomes", json={"items": body["items"][:1]})
    assert again.json() == {"results": [{"matched": True, "counted": False}]}
    assert count(case_code).matches == 2
    event = AuditEvent.objects.filter(action="survivors.outcome").order_by("seq").first()
    assert event.detail == {"items": 3, "matched": 2, "counted": 2}
    assert photos[0]["pdq"] not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_the_answer_names_no_case_no_person_and_no_entry(api, case_code, photos):
    response = api.post(
        "/api/v1/survivors/outcomes", json={"items": [{"sha256": photos[0]["sha256"], "outcome": "removed"}]}
    )
    assert set(response.json()["results"][0]) == {"matched", "counted"}
    assert case_code.replace("-", "") not in response.text


def test_outcomes_for_a_withdrawn_case_are_not_counted(api, case_code, photos):
    cases.withdraw(case_code)
    response = api.post(
        "/api/v1/survivors/outcomes", json={"items": [{"md5": photos[0]["md5"], "outcome": "removed"}]}
    )
    assert response.json()["results"] == [{"matched": False, "counted": False}]
    assert not Outcome.objects.exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"items": [{"md5": "1" * 32, "outcome": "deleted"}]}, 400, "invalid_input"),
        ({"items": []}, 400, "invalid_input"),
        ({"items": [{"md5": "xyz", "outcome": "removed"}]}, 400, "invalid_input"),
        ({"items": [{"outcome": "removed"}]}, 400, "invalid_input"),
        ({"items": [{"md5": "1" * 32, "outcome": "removed", "where": "x"}]}, 400, "invalid_input"),
    ],
)
def test_bad_reports_get_a_typed_error_and_change_nothing(api, case_code, body, status, code):
    response = api.post("/api/v1/survivors/outcomes", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert not Outcome.objects.exists()


def test_only_keys_with_the_permission_may_report(live_server, make_user, case_code, photos):
    from openmnr.accounts import apikeys

    owner = make_user("industry_member")
    _, text = apikeys.create_api_key(owner=owner, name="match only", scopes=["banks.match_hashes"])
    body = {"items": [{"md5": photos[0]["md5"], "outcome": "removed"}]}
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        assert (
            client.post(
                "/api/v1/survivors/outcomes", json=body, headers={"Authorization": f"Bearer {text}"}
            ).status_code
            == 403
        )
        assert client.post("/api/v1/survivors/outcomes", json=body).status_code in (401, 403)
    partner = make_user("partner_hotline")
    _, text = apikeys.create_api_key(owner=partner, name="partner", scopes=["banks.match_hashes"])
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        assert (
            client.post("/api/v1/survivors/outcomes", json=body, headers={"X-API-Key": text}).status_code
            == 403
        )
    assert not Outcome.objects.exists()


def test_openapi_documents_the_endpoint(live_server):
    schema = httpx.get(f"{live_server.url}/api/v1/openapi.json", timeout=30).json()
    operation = schema["paths"]["/api/v1/survivors/outcomes"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    item = body["properties"]["items"]["items"]
    assert set(item["properties"]) == {"pdq", "md5", "sha256", "outcome", "reference"}
    assert item["properties"]["outcome"]["enum"] == ["removed", "kept"]
    assert {"200", "400"} <= set(operation["responses"])
    # The match answer documents the action class a self-reported entry gives.
    assert "survivor_reported" in str(schema["components"]["schemas"]["KeyResult"])
