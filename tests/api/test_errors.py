"""What an integrator sees when the API refuses: 401 for any bad key (never a CSRF refusal), one
error shape everywhere, validation in plain words, and every status in the OpenAPI document."""

import json

import pytest
from django.test import Client

from helpers import sign_in_client
from openmnr.accounts import apikeys

PDQ = "f" * 64


def _shape(response) -> dict:
    body = response.json()
    assert set(body) >= {"error", "detail", "fields"}, body
    assert isinstance(body["fields"], dict)
    return body


def _no_duplicate_keys(pairs):
    keys = [key for key, _value in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in the document: {keys}"
    return dict(pairs)


@pytest.fixture
def strict():
    """A client that enforces CSRF, as a real HTTP client meets it."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def industry_key(make_user):
    owner = make_user("industry_member")
    key, text = apikeys.create_api_key(
        owner=owner, name="Industry", scopes=["banks.match_hashes", "banks.hash_media"]
    )
    return key, text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/match", "/api/v1/hash", "/api/v1/reports", "/api/v1/survivors/outcomes"]
)
def test_a_missing_mistyped_or_revoked_key_is_401_never_a_csrf_refusal(strict, industry_key, path):
    key, text = industry_key
    apikeys.revoke_api_key(key)
    body = json.dumps({"pdq": PDQ})
    for headers in (
        {},
        {"Authorization": "Bearer omnr_mistyped"},
        {"X-API-Key": "nope"},
        {"Authorization": f"Bearer {text}"},
    ):
        response = strict.post(path, body, content_type="application/json", headers=headers)
        assert response.status_code == 401, (headers, response.content)
        assert _shape(response)["error"] == "not_authenticated"
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_stale_session_cookie_is_401_not_a_csrf_refusal(strict, settings):
    strict.cookies[settings.SESSION_COOKIE_NAME] = "expired-or-made-up"
    response = strict.post("/api/v1/match", json.dumps({"pdq": PDQ}), content_type="application/json")
    assert response.status_code == 401 and _shape(response)["error"] == "not_authenticated"


@pytest.mark.django_db
def test_a_staff_session_without_its_csrf_token_gets_403_in_the_same_shape(strict, make_user):
    sign_in_client(strict, make_user("analyst"))
    response = strict.post("/api/v1/match", json.dumps({"pdq": PDQ}), content_type="application/json")
    assert response.status_code == 403 and _shape(response)["error"] == "csrf_failed"


@pytest.mark.django_db
def test_a_refused_permission_has_the_shape(client, make_user):
    coordinator = make_user("national_coordinator")
    _key, text = apikeys.create_api_key(owner=coordinator, name="c", scopes=[])
    response = client.post(
        "/api/v1/match", {"pdq": PDQ}, "application/json", headers={"Authorization": f"Bearer {text}"}
    )
    assert response.status_code == 403 and _shape(response)["error"] == "forbidden"


@pytest.mark.django_db
def test_validation_errors_name_each_field_in_plain_words(client, industry_key, make_user):
    _key, text = industry_key
    headers = {"Authorization": f"Bearer {text}"}
    response = client.post(
        "/api/v1/match", {"items": [{"pdq": None}, {"pdq": "xyz"}]}, "application/json", headers=headers
    )
    body = _shape(response)
    assert response.status_code == 400 and body["error"] == "invalid_input"
    assert body["fields"] == {
        "items.0": "give at least one signal (pdq, md5, sha256, vpdq)",
        "items.1.pdq": "is not in the expected format (see the API reference)",
    }
    assert "function-wrap" not in response.content.decode() and "xyz" not in response.content.decode()

    partner = make_user("partner_hotline")
    _k, partner_text = apikeys.create_api_key(owner=partner, name="p", scopes=["hotline.submit_report"])
    response = client.post(
        "/api/v1/reports",
        json.dumps({"urls": [""], "colour": "red"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {partner_text}", "Idempotency-Key": "r-1"},
    )
    body = _shape(response)
    assert response.status_code == 400
    assert body["fields"] == {
        "urls.0": "must not be empty",
        "colour": "is not a field this operation accepts",
    }
    response = client.post(
        "/api/v1/reports",
        json.dumps({"urls": ["https://example.org/x"]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {partner_text}"},
    )
    assert response.status_code == 400 and _shape(response)["fields"] == {"Idempotency-Key": "is required"}


@pytest.mark.django_db
def test_an_unknown_report_and_an_oversized_body_answer_in_the_shape(client, make_user, settings):
    partner = make_user("partner_hotline")
    _k, text = apikeys.create_api_key(owner=partner, name="p", scopes=["hotline.submit_report"])
    response = client.get("/api/v1/reports/999999", headers={"Authorization": f"Bearer {text}"})
    assert response.status_code == 404 and _shape(response)["error"] == "not_found"
    settings.MAX_REQUEST_BYTES = 1000
    response = client.post(
        "/api/v1/reports",
        json.dumps({"urls": ["https://example.org/" + "a" * 2000]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {text}", "Idempotency-Key": "big"},
    )
    assert response.status_code == 413 and _shape(response)["error"] == "too_large"


@pytest.mark.django_db
def test_the_document_lists_every_status_an_operation_can_answer(client):
    text = client.get("/api/v1/openapi.json").content.decode()
    document = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    paths, components = document["paths"], document["components"]["schemas"]
    match = paths["/api/v1/match"]["post"]["responses"]
    assert {"200", "400", "401", "403", "413", "415", "429"} <= set(match)
    assert {"401", "403", "404", "429"} <= set(paths["/api/v1/reports/{report_id}"]["get"]["responses"])
    assert "400" not in paths["/api/v1/whoami"]["get"]["responses"]  # nothing to get wrong
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    schema = components[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
                    assert {"error", "detail", "fields"} <= set(schema["required"]), (path, method, status)


@pytest.mark.django_db
def test_the_staff_home_links_the_api_reference(staff_client):
    client, _user = staff_client("analyst")
    page = client.get("/staff/").content.decode()
    assert 'href="/api/v1/docs"' in page and 'href="/api/v1/openapi.json"' in page
    assert client.get("/api/v1/docs").status_code == 200
