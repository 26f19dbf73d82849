"""A lost database answers 503 with Retry-After, never 500: JSON for the API, a page elsewhere."""

import json

import pytest
from django.db import OperationalError
from django.test import Client

from openmnr.accounts import apikeys


@pytest.fixture
def partner_key(make_user):
    owner = make_user("partner_hotline")
    _key, text = apikeys.create_api_key(owner=owner, name="Partner", scopes=["hotline.submit_report"])
    return text


@pytest.mark.django_db
def test_intake_answers_503_with_retry_after_when_the_database_is_lost(partner_key, monkeypatch, settings):
    from openmnr.hotline import batch, intake

    settings.DEBUG = False

    def lost(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(intake, "receive_partner", lost)
    monkeypatch.setattr(batch, "receive", lost)
    client = Client(raise_request_exception=False)
    auth = {"Authorization": f"Bearer {partner_key}"}
    single = client.post(
        "/api/v1/reports",
        json.dumps({"urls": ["https://example.org/x"]}),
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "k"},
    )
    many = client.post(
        "/api/v1/reports/batch",
        json.dumps({"reports": [{"idempotency_key": "k", "urls": ["https://example.org/x"]}]}),
        content_type="application/json",
        headers=auth,
    )
    for response in (single, many):
        assert response.status_code == 503 and response["Retry-After"] == "30"
        body = response.json()
        assert body["error"] == "unavailable" and body["fields"] == {}  # the API's one error shape
        assert "unavailable" in body["detail"]


@pytest.mark.django_db
def test_a_page_says_the_service_is_briefly_unavailable(monkeypatch, settings):
    from openmnr.web import views

    settings.DEBUG = False

    def lost(request):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(views, "render", lambda *a, **k: lost(None))
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode()


@pytest.mark.django_db
def test_other_errors_stay_500(monkeypatch, settings):
    from openmnr.web import views

    settings.DEBUG = False
    monkeypatch.setattr(views, "render", lambda *a, **k: 1 / 0)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
