"""The whole flow: a report through the public form, triage in the task worker against a web site on
127.0.0.1 serving benign corpus images, then known material resolved without anyone viewing it and
the rest waiting in the analyst queue."""

import re
import socket
from unittest import mock
from urllib.parse import urlencode

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.hotline.models import Case

# The worker commits and closes connections as in production, so these tests commit too.
pytestmark = pytest.mark.django_db(transaction=True)


def report(client, *urls) -> str:
    """File a public report as a browser does; returns its tracking code. The triage tasks are
    enqueued when the report commits."""
    data = {"urls": "\n".join(urls), "found_where": "web_page", "content_kind": "csam"}
    response = client.post("/report/", urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    return re.search(r'id="tracking-code">([0-9A-Z-]+)<', response.content.decode()).group(1)


def status(client, code) -> str:
    response = client.post(
        "/report/status/", urlencode({"code": code}), content_type="application/x-www-form-urlencoded"
    )
    return re.search(r'id="report-status">([^<]+)<', response.content.decode()).group(1)


def test_known_material_is_assessed_without_reaching_the_queue(
    client, site, corpus, known_bank, worker, staff_client
):
    known_bank(corpus["astronaut"], corpus["camera"])
    site.image("/img/a.jpg", corpus["astronaut"])
    site.image("/img/c.jpg", corpus["camera"])
    page = site.page("/gallery.html", "/img/a.jpg", "img/c.jpg")

    code = report(client, page)
    assert status(client, code) == "Received"
    worker()

    case = Case.objects.get()
    assert case.state == "assessed" and case.auto_assessed
    assert (case.assessment, case.category) == ("baseline", "A")
    assert [(i.url.rsplit("/", 1)[1], i.matched, i.auto_assessed) for i in case.items.all()] == [
        ("a.jpg", True, True),
        ("c.jpg", True, True),
    ]
    assert [t.to_state for t in case.transitions.all()] == ["triaged", "assessed"]
    assert status(client, code) == "Being assessed"

    analyst_client, _ = staff_client("analyst")
    queue = analyst_client.get("/staff/hotline/").content.decode()
    assert f"/staff/hotline/cases/{case.pk}/" not in queue
    # Nobody looked: the only audit events about this case's media are the system's.
    assert not AuditEvent.objects.filter(action="hotline.media.reveal").exists()


def test_a_page_with_unknown_media_waits_in_the_queue_known_first(client, site, corpus, known_bank, worker):
    known_bank(corpus["astronaut"])
    site.image("/img/a.jpg", corpus["astronaut"])
    site.image("/img/u.jpg", corpus["coffee"])
    mixed = site.page("/mixed.html", "/img/a.jpg", "/img/u.jpg")
    unknown = site.page("/unknown.html", "/img/u.jpg")
    report(client, unknown)
    report(client, unknown)  # reported twice: one case, two reporters
    report(client, mixed)
    worker()

    mixed_case, unknown_case = Case.objects.get(url=mixed), Case.objects.get(url=unknown)
    assert mixed_case.state == unknown_case.state == "triaged"
    assert mixed_case.has_known_match and not unknown_case.has_known_match
    assert unknown_case.reporter_count == 2
    known_item, unknown_item = mixed_case.items.all()
    assert known_item.auto_assessed and known_item.assessment == "baseline"
    assert not unknown_item.matched and unknown_item.assessment == ""
    assert len(unknown_item.sha256) == 64 and len(unknown_item.pdq) == 64

    from openmnr.hotline.cases import queue

    assert list(queue()) == [mixed_case, unknown_case]  # known matches first, then reporter count


def test_a_private_address_is_not_fetchable_and_no_packet_is_sent(client, worker, settings):
    settings.FETCH_ALLOW_PRIVATE = []
    report(client, "http://10.0.0.1/")
    with (
        mock.patch("openmnr.core.fetch.socket.create_connection") as connect,
        mock.patch.object(socket.socket, "connect") as raw_connect,
    ):
        worker()
    connect.assert_not_called()
    raw_connect.assert_not_called()
    case = Case.objects.get()
    assert case.state == "not_actionable"
    assert "not fetchable" in case.fetch_error and "10.0.0.1" in case.fetch_error
    assert case.fetch_log[0]["ip"] == "10.0.0.1"


def test_a_missing_page_is_not_actionable_and_a_missing_image_is_noted(client, site, corpus, worker):
    page = site.page("/broken.html", "/img/gone.jpg")
    report(client, site.url("/nothing-here"), page)
    worker()
    gone = Case.objects.get(url=site.url("/nothing-here"))
    assert gone.state == "not_actionable" and "HTTP 404" in gone.fetch_error
    broken = Case.objects.get(url=page)
    assert broken.state == "triaged"
    assert "HTTP 404" in broken.items.get().error


def test_running_triage_again_adds_nothing(client, site, corpus, worker):
    from openmnr.hotline import triage

    site.image("/img/u.jpg", corpus["coffee"])
    page = site.page("/once.html", "/img/u.jpg")
    report(client, page)
    worker()
    case = Case.objects.get()
    assert triage.run(case.pk) == "nothing to do"
    assert case.items.count() == 1 and case.transitions.count() == 1


def test_a_server_error_is_tried_again_later_then_set_aside(client, site, corpus, worker, settings):
    """Triage does not enqueue: it raises TryAgain and the task queues the case again, later each
    time; once the attempts are spent the case is set aside with the reason."""
    from django_tasks_db.models import DBTaskResult

    settings.HOTLINE_FETCH_ATTEMPTS = 2
    url = site.serve("/busy.html", b"busy", "text/html", status=503)
    report(client, url)
    worker()  # first attempt: 503; the retry waits its delay, so this worker run ends

    case = Case.objects.get()
    assert case.state == "received" and case.triage_attempts == 1
    assert "HTTP 503" in case.fetch_error
    (waiting,) = DBTaskResult.objects.filter(status="READY")
    assert waiting.args_kwargs["args"] == [case.pk] and waiting.run_after > case.opened_at

    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=case.opened_at)  # the delay has passed
    worker()
    case.refresh_from_db()
    assert case.state == "not_actionable" and "unreachable after 2 attempts" in case.fetch_error
    assert not DBTaskResult.objects.filter(status="READY").exists()
