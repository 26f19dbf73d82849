import pytest
from django.utils.module_loading import import_string

from openmnr.web import clock


@pytest.mark.django_db
def test_every_periodic_job_runs_and_a_failing_one_does_not_stop_the_others(monkeypatch):
    ran = []

    def job(path):
        def run():
            ran.append(path)
            if path == "fails":
                raise RuntimeError("boom")

        return run

    monkeypatch.setattr(clock, "JOBS", ["fails", "works"])
    monkeypatch.setattr(clock, "import_string", job)
    monkeypatch.setattr(clock, "close_old_connections", lambda: None)
    clock.run_jobs()
    assert ran == ["fails", "works"]


@pytest.mark.django_db
def test_the_real_jobs_exist_and_run_on_an_empty_database():
    for path in clock.JOBS:
        import_string(path)()
