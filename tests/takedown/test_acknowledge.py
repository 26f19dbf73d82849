"""The acknowledgement link in a notice: public (no account), confirmed with a button, recorded on
the notice and the case and in the audit log; an expired or altered link is refused."""

import re
import time

import pytest
from django.core import signing

from openmnr.audit.models import AuditEvent
from openmnr.takedown import services
from openmnr.takedown.models import Notice, TakedownCase

pytestmark = pytest.mark.django_db

ZONE = {("example.pt", "A"): ["203.0.113.7"]}


@pytest.fixture
def noticed(rdap, static_tracer, tools, always, assessed_case, clock, mailoutbox):
    """A case noticed once by e-mail; returns (notice, the acknowledgement path from the e-mail)."""
    rdap.network("203.0.113.7", "abuse@hosting.test")
    assessed_case("https://example.pt/gallery", known=True)
    services.tick(clock.now, tools=tools(tracer=static_tracer(ZONE), check=always("online")))
    [message] = mailoutbox
    path = re.search(r"http://testserver(/staff/takedown/ack/[^/\s]+/)", message.body).group(1)
    return Notice.objects.get(), path


def test_the_link_works_without_an_account_and_a_visit_alone_records_nothing(client, noticed):
    notice, path = noticed
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert notice.reference in html and "Confirm receipt" in html
    assert 'style="' not in html and "<script>" not in html
    notice.refresh_from_db()
    assert notice.acknowledged_at is None  # mail scanners open links; only the button counts


def test_confirming_records_the_acknowledgement_once_and_audits_it(client, noticed):
    notice, path = noticed
    response = client.post(path, {"message": "Removed at 10:04, thanks."})
    assert response.status_code == 200 and 'id="ack-done"' in response.content.decode()

    notice.refresh_from_db()
    takedown = TakedownCase.objects.get(pk=notice.takedown_id)
    assert notice.acknowledged_at is not None and notice.ack_message == "Removed at 10:04, thanks."
    assert takedown.acknowledged_at == notice.acknowledged_at
    assert takedown.events.filter(kind="acknowledged").count() == 1
    event = AuditEvent.objects.get(action="takedown.notice.acknowledge")
    assert event.actor == "public" and event.detail["reference"] == notice.reference

    first = notice.acknowledged_at
    client.post(path, {"message": "again"})
    notice.refresh_from_db()
    assert notice.acknowledged_at == first and notice.ack_message == "Removed at 10:04, thanks."
    assert AuditEvent.objects.filter(action="takedown.notice.acknowledge").count() == 1


def test_an_expired_link_is_refused(client, noticed, monkeypatch, settings):
    notice, _path = noticed
    made_at = time.time() - (settings.TAKEDOWN_ACK_DAYS + 1) * 86400
    monkeypatch.setattr(signing.time, "time", lambda: made_at)
    from openmnr.takedown.notices import ack_token

    old_token = ack_token(notice.reference)
    monkeypatch.undo()

    for method in (client.get, client.post):
        response = method(f"/staff/takedown/ack/{old_token}/")
        assert response.status_code == 410
        assert "older than" in response.content.decode()
    notice.refresh_from_db()
    assert notice.acknowledged_at is None


def test_an_altered_link_is_refused(client, noticed):
    notice, path = noticed
    token = path.split("/")[-2]
    value, _, signature = token.rpartition(":")
    other_reference = signing.dumps(notice.reference.replace("-01", "-02"), salt="something else")
    for tampered in (value + ":" + signature[::-1], other_reference, "not-a-token"):
        response = client.post(f"/staff/takedown/ack/{tampered}/")
        assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.acknowledged_at is None
