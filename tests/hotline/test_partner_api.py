"""Partner intake: POST /api/v1/reports, idempotent per (API key, Idempotency-Key)."""

import json
import threading

import pytest

from openmnr.accounts import apikeys
from openmnr.hotline.models import Case, Submission

BODY = {
    "urls": ["https://example.org/x", "https://example.org/y"],
    "content_kind": "csam",
    "reference": "P-1",
}


@pytest.fixture
def partner_key(make_user):
    owner = make_user("partner_hotline")
    _key, text = apikeys.create_api_key(owner=owner, name="Partner", scopes=["hotline.submit_report"])
    return text


def _post(client, key, body=BODY, idempotency_key="report-1"):
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return client.post("/api/v1/reports", json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_a_report_is_accepted_once_and_its_status_can_be_read(client, partner_key):
    first = _post(client, partner_key)
    assert first.status_code == 202
    report_id = first.json()["id"]
    again = _post(client, partner_key)
    assert again.status_code == 202 and again.json() == {"id": report_id}
    assert Submission.objects.count() == 1 and Case.objects.count() == 2
    submission = Submission.objects.get()
    assert submission.source == "partner" and submission.partner_reference == "P-1"

    status = client.get(f"/api/v1/reports/{report_id}", headers={"Authorization": f"Bearer {partner_key}"})
    assert status.json() == {"id": report_id, "status": "received"}


@pytest.mark.django_db
def test_the_same_idempotency_key_with_another_body_is_a_conflict(client, partner_key):
    assert _post(client, partner_key).status_code == 202
    response = _post(client, partner_key, {**BODY, "urls": ["https://example.org/z"]})
    assert response.status_code == 409
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_refusals(client, partner_key, make_user):
    assert _post(client, partner_key, idempotency_key=None).status_code == 400
    assert _post(client, partner_key, {**BODY, "urls": ["javascript:alert(1)"]}).status_code == 400
    other = make_user("industry_member")
    _key, industry = apikeys.create_api_key(owner=other, name="Industry", scopes=[])
    assert _post(client, industry).status_code == 403
    assert _post(client, "omnr_nope_nope").status_code == 401
    assert Submission.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_files_one_report(partner_key):
    from django.db import connection
    from django.test import Client

    answers = []
    barrier = threading.Barrier(2)

    def send():
        barrier.wait()
        try:
            answers.append(_post(Client(), partner_key, idempotency_key="at-once"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert Submission.objects.count() == 1 and Case.objects.count() == 2
