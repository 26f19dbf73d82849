"""NCMEC's lifecycle: an unfinished report expires 24 h after opening or 1 h after its last change,
whichever is later, files and all, by the worker's clock."""

from datetime import timedelta

import pytest
from django.utils import timezone

from openmnr.core.cybertipline.codes import ProtocolError
from openmnr.industry import intake, lifecycle
from openmnr.industry.importer import _spooled
from openmnr.industry.models import File, Report
from openmnr.web import clock


def _age(report, *, opened_hours: float, changed_hours: float) -> None:
    now = timezone.now()
    Report.objects.filter(pk=report.pk).update(
        opened_at=now - timedelta(hours=opened_hours), changed_at=now - timedelta(hours=changed_hours)
    )


@pytest.mark.django_db
def test_unfinished_reports_expire_by_the_later_of_the_two_rules(
    provider, docs, tmp_path, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from openmnr.core.evidence import generate_key

    settings.KEEP_EVIDENCE, settings.EVIDENCE_KEY = True, generate_key()
    path = tmp_path / "f.jpg"
    path.write_bytes(docs.new)
    young = intake.submit(provider.user, docs.report())
    busy = intake.submit(provider.user, docs.report())
    stale = intake.submit(provider.user, docs.report())
    kept = intake.upload(provider.user, stale.pk, _spooled(path))
    assert kept.evidence_id
    _age(young, opened_hours=2, changed_hours=2)  # idle for an hour, but not a day old
    _age(busy, opened_hours=30, changed_hours=0.5)  # a day old, but changed within the hour
    _age(stale, opened_hours=25, changed_hours=1.5)

    assert "openmnr.industry.lifecycle.expire_open_reports" in clock.JOBS
    monkeypatch.setattr(clock, "close_old_connections", lambda: None)  # the test's own transaction
    with django_capture_on_commit_callbacks(execute=True):
        clock.run_jobs()

    states = dict(Report.objects.values_list("pk", "state"))
    assert states == {young.pk: "open", busy.pk: "open", stale.pk: "expired"}
    assert not File.objects.filter(report=stale).exists()
    assert Report.objects.get(pk=stale.pk).xml == ""
    assert not list((settings.EVIDENCE_DIR).rglob(kept.evidence_id))  # the kept bytes are gone too
    assert [t.to_state for t in Report.objects.get(pk=stale.pk).transitions.all()] == ["expired"]

    with pytest.raises(ProtocolError) as refused:
        intake.upload(provider.user, stale.pk, _spooled(path))
    assert refused.value.code == 5001 and "No such report" in refused.value.description


@pytest.mark.django_db
def test_a_report_past_its_time_cannot_be_finished_before_the_clock_runs(provider, docs):
    report = intake.submit(provider.user, docs.report())
    _age(report, opened_hours=48, changed_hours=2)
    with pytest.raises(ProtocolError) as refused:
        intake.finish(provider.user, report.pk)
    assert refused.value.code == 5001 and "expired" in refused.value.description
    assert lifecycle.expire_open_reports() == 1


@pytest.mark.django_db
def test_transitions_follow_the_table(provider, docs):
    from openmnr.industry.states import TransitionNotAllowed

    report = intake.submit(provider.user, docs.report())
    report, _ids = intake.finish(provider.user, report.pk)
    with pytest.raises(TransitionNotAllowed):
        lifecycle.transition(report, "retracted")
    assert Report.objects.get(pk=report.pk).state == "finished"
