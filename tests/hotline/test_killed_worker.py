"""A worker killed in the middle of triage loses nothing: the stalled case is picked up again and
the second run finishes it with every item exactly once."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.db import connection

from openmnr.audit.models import AuditEvent
from openmnr.hotline import tasks
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case, MediaItem

# The worker runs in another process, which sees only committed data.
pytestmark = pytest.mark.django_db(transaction=True)

WORKER = """
import sys
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from django.core.management import call_command
call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)
"""


def _wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.slow
def test_a_worker_killed_mid_case_loses_nothing_and_repeats_nothing(site, corpus, worker, tmp_path):
    site.image("/img/1.jpg", corpus["coffee"])
    site.image("/img/2.jpg", corpus["chelsea"])
    second_image = site.hold("/img/2.jpg")  # the worker will hang fetching the second image
    page = site.page("/two.html", "/img/1.jpg", "/img/2.jpg")
    case = receive_public(ReportInput(urls=[page])).urls.get().case  # enqueues triage on commit

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "openmnr.web.settings",
        "OPENMNR_FETCH_ALLOW_PRIVATE": "127.0.0.1",
        "OPENMNR_VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(connection.settings_dict["NAME"])], env=env, start_new_session=True
    )
    try:
        _wait_for(lambda: "/img/2.jpg" in site.requests)
        _wait_for(lambda: MediaItem.objects.filter(case=case).count() == 1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        process.wait(30)
    case.refresh_from_db()
    assert case.state == "received"
    assert [i.url for i in case.items.all()] == [site.url("/img/1.jpg")]

    second_image.set()
    assert tasks.resume_stalled(older_than=timedelta(0)) == 1
    worker()

    case.refresh_from_db()
    assert case.state == "triaged"
    items = list(case.items.all())
    assert [(i.position, i.url) for i in items] == [(0, site.url("/img/1.jpg")), (1, site.url("/img/2.jpg"))]
    assert all(len(i.sha256) == 64 and i.error == "" for i in items)
    assert case.triage_attempts == 2
    assert [(t.from_state, t.to_state) for t in case.transitions.all()] == [("received", "triaged")]
    assert AuditEvent.objects.filter(action="hotline.case.transition", object_id=str(case.pk)).count() == 1
    # The first image was fetched by the killed run only; the second run skipped it.
    assert site.requests.count("/img/1.jpg") == 1


def test_a_case_whose_task_was_lost_is_resumed_only_once_stalled():
    from io import StringIO

    from django.core.management import call_command

    case = Case.objects.create(url="https://example.org/lost", url_sha256="0" * 64)
    assert tasks.resume_stalled() == 0  # just opened: its task may simply be waiting its turn
    Case.objects.filter(pk=case.pk).update(opened_at=case.opened_at - timedelta(minutes=60))
    out = StringIO()
    call_command("hotline_resume", stdout=out)
    assert out.getvalue().strip() == "re-enqueued triage for 1 case(s)"
    assert tasks.resume_stalled() == 0  # touched when re-enqueued; not again until it stalls again
