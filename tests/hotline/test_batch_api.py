"""Batch intake: POST /api/v1/reports/batch, one answer per report, each filed whole or not at all."""

import json

import pytest

from openmnr.accounts import apikeys
from openmnr.audit import services as audit
from openmnr.audit.models import AuditEvent
from openmnr.hotline.models import Case, ReportedURL, Submission


@pytest.fixture
def partner_key(make_user):
    owner = make_user("partner_hotline")
    _key, text = apikeys.create_api_key(owner=owner, name="Partner", scopes=["hotline.submit_report"])
    return text


def _report(n, **extra):
    return {"idempotency_key": f"r-{n}", "urls": [f"https://example.org/{n}"], "reference": f"P-{n}", **extra}


def _post(client, key, reports):
    return client.post(
        "/api/v1/reports/batch",
        json.dumps({"reports": reports}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def _tasks():
    """Cases with a triage task queued, once the batch's fan-out task has run (as a worker would)."""
    from django_tasks_db.models import DBTaskResult

    from openmnr.hotline import tasks

    for fan_out in DBTaskResult.objects.filter(task_path__endswith="triage_new_cases"):
        tasks.triage_new_cases.call(*fan_out.args_kwargs["args"])
        fan_out.delete()
    queued = DBTaskResult.objects.filter(task_path__endswith="triage_case")
    case_ids = [task.args_kwargs["args"][0] for task in queued]
    assert len(case_ids) == len(set(case_ids)), "a case was queued twice"
    assert set(case_ids) <= set(Case.objects.values_list("pk", flat=True))
    return len(case_ids)


@pytest.mark.django_db
def test_a_batch_files_each_report_with_its_case_task_and_audit_event(client, partner_key):
    response = _post(client, partner_key, [_report(n) for n in range(50)])
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [202] * 50
    assert [r["idempotency_key"] for r in results] == [f"r-{n}" for n in range(50)]
    ids = [r["id"] for r in results]
    assert len(set(ids)) == 50
    assert Submission.objects.filter(pk__in=ids, source="partner").count() == 50
    assert Case.objects.count() == 50 and ReportedURL.objects.count() == 50
    assert _tasks() == 50
    assert AuditEvent.objects.filter(action="hotline.report.receive").count() == 50
    assert Submission.objects.get(pk=ids[7]).partner_reference == "P-7"
    assert audit.verify().ok


@pytest.mark.django_db
def test_one_bad_report_is_refused_and_the_others_are_filed(client, partner_key):
    reports = [
        _report(1),
        _report(2, urls=["javascript:alert(1)"]),
        _report(3, content_kind="no-such-kind"),
        {"urls": ["https://example.org/no-key"]},
        _report(5),
    ]
    results = _post(client, partner_key, reports).json()["results"]
    assert [r["status"] for r in results] == [202, 400, 400, 400, 202]
    assert results[1]["detail"] == "urls.0: is not in the expected format (see the API reference)"
    assert "content_kind" in results[2]["detail"]
    assert "idempotency_key" in results[3]["detail"]
    assert set(Submission.objects.values_list("partner_reference", flat=True)) == {"P-1", "P-5"}
    assert Case.objects.count() == 2 and _tasks() == 2


@pytest.mark.django_db
def test_a_retried_batch_files_nothing_twice_and_a_reused_key_is_a_conflict(client, partner_key):
    first = _post(client, partner_key, [_report(1), _report(2)]).json()["results"]
    again = _post(
        client, partner_key, [_report(1), _report(2, urls=["https://example.org/other"]), _report(3)]
    )
    results = again.json()["results"]
    assert [r["status"] for r in results] == [200, 409, 202]
    assert results[0]["id"] == first[0]["id"] and results[1]["id"] is None
    assert Submission.objects.count() == 3 and Case.objects.count() == 3 and _tasks() == 3


@pytest.mark.django_db
def test_the_same_key_twice_in_one_batch_is_one_report(client, partner_key):
    results = _post(client, partner_key, [_report(1), _report(1), _report(1, description="other")]).json()
    statuses = [(r["status"], r["id"]) for r in results["results"]]
    assert statuses[0][0] == 202 and statuses[1] == (200, statuses[0][1]) and statuses[2] == (409, None)
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_reports_of_one_url_share_its_case_and_count_as_its_reporters(client, partner_key):
    seen = {"idempotency_key": "seen", "urls": ["https://example.org/seen"]}
    assert _post(client, partner_key, [seen]).json()["results"][0]["status"] == 202
    both = ["https://example.org/seen", "https://example.org/new"]
    reports = [{"idempotency_key": f"k{n}", "urls": both} for n in range(3)]
    assert [r["status"] for r in _post(client, partner_key, reports).json()["results"]] == [202] * 3
    counts = dict(Case.objects.values_list("url", "reporter_count"))
    assert counts == {"https://example.org/seen": 4, "https://example.org/new": 3}
    assert _tasks() == 2
    assert audit.verify().ok


@pytest.mark.django_db
def test_when_the_one_statement_path_meets_a_concurrent_writer_each_report_is_filed_alone(
    client, partner_key, monkeypatch
):
    """A concurrent request that takes a key or opens a case between the batch's look-up and its
    insert makes the bulk insert fail (IntegrityError); the batch then files report by report."""
    from django.db import IntegrityError

    from openmnr.hotline import batch

    def concurrent_writer_won(new, api_key, request):
        Submission.objects.create(
            tracking_code="X", source="partner", found_where="other", content_kind="csam"
        )
        raise IntegrityError("duplicate key value violates unique constraint")

    first = _post(client, partner_key, [_report(1)]).json()["results"][0]
    monkeypatch.setattr(batch, "_file_together", concurrent_writer_won)
    results = _post(client, partner_key, [_report(1), _report(2), _report(3, urls=["ftp://x"])]).json()[
        "results"
    ]
    assert [r["status"] for r in results] == [200, 202, 400] and results[0]["id"] == first["id"]
    assert not Submission.objects.filter(tracking_code="X").exists()  # the failed attempt left nothing
    assert Submission.objects.count() == 2 and _tasks() == 2
    assert audit.verify().ok


@pytest.mark.django_db
def test_single_and_batch_share_idempotency_keys(client, partner_key):
    body = {"urls": ["https://example.org/1"], "reference": "P-1"}
    single = client.post(
        "/api/v1/reports",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {partner_key}", "Idempotency-Key": "r-1"},
    )
    results = _post(client, partner_key, [_report(1)]).json()["results"]
    assert results[0] == {
        "index": 0,
        "idempotency_key": "r-1",
        "status": 200,
        "id": single.json()["id"],
        "detail": "",
    }


@pytest.mark.django_db
def test_refusals_of_the_whole_batch(client, partner_key, make_user):
    for refused in (
        _post(client, partner_key, []),
        _post(client, partner_key, [_report(n) for n in range(101)]),
    ):
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_input"
        assert "reports" in refused.json()["fields"]
    _key, industry = apikeys.create_api_key(owner=make_user("industry_member"), name="Industry", scopes=[])
    assert _post(client, industry, [_report(1)]).status_code == 403
    assert _post(client, "omnr_nope_nope", [_report(1)]).status_code == 401
    assert Submission.objects.count() == 0
