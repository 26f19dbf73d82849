"""Live alerts in the platform: the case, the signed webhook, the audit, the analysts' page."""

import json
import time

import pytest

from helpers import LocalServer, new_bank
from openmnr.audit.models import AuditEvent
from openmnr.core.live import webhook
from openmnr.live import cases, intake
from openmnr.live.models import LiveAlert

SECRET = "webhook-secret-for-tests"


def entry(bank, value, *, classification="baseline", status="active", category=""):
    from django.contrib.auth import get_user_model

    from openmnr.banks.models import BankEntry

    proposer, _ = get_user_model().objects.get_or_create(username="proposer")
    return BankEntry.objects.create(
        bank=bank,
        signal_type="pdq",
        value=value,
        classification=classification,
        status=status,
        category=category,
        proposed_by=proposer,
    )


def alert_event(kind, entries, *, key="k1", first=12.0, last=13.5, stream="rtmp://127.0.0.1:1935/live/a"):
    now = time.time()
    return {
        "event": kind,
        "stream": stream,
        "at": now,
        "alert": {
            "key": key,
            "stream": stream,
            "first_match": first,
            "last_match": last,
            "first_match_wall": now - 2,
            "last_match_wall": now,
            "opened_wall": now - 1,
            "entries": {str(e): d for e, d in entries.items()},
            "matching_samples": 4,
            "closed": kind == "alert_closed",
        },
    }


@pytest.fixture
def hook(settings):
    server = LocalServer()
    settings.LIVE_WEBHOOK_URL = server.url("/hook")
    settings.LIVE_WEBHOOK_SECRET = SECRET
    settings.LIVE_WEBHOOK_ALLOW_HTTP = ["127.0.0.1"]
    yield server
    server.close()


@pytest.mark.django_db
def test_an_alert_becomes_a_case_with_its_entries_and_a_signed_webhook(hook):
    csam = new_bank("confirmed_csam", name="Confirmed")
    partner = new_bank("partner_list", name="Partner list")
    a = entry(csam, "a" * 64, category="A")
    b = entry(partner, "b" * 64)
    alert = intake.record_event(alert_event("alert_opened", {b.pk: 3, a.pk: 9}))
    assert alert.ongoing and alert.stream == "rtmp://127.0.0.1:1935/live/a"
    # Most serious bank first, with bank and classification.
    assert [m["entry_id"] for m in alert.matches] == [a.pk, b.pk]
    assert alert.matches[0]["bank"] == "Confirmed" and alert.matches[0]["category"] == "A"
    headers, body = hook.posts[0]
    assert webhook.verify(SECRET, headers["x-openmnr-signature"], body)
    assert not webhook.verify("another secret", headers["x-openmnr-signature"], body)
    sent = json.loads(body)
    assert sent["event"] == "alert_opened" and sent["alert"] == alert.pk
    assert [m["entry_id"] for m in sent["matches"]] == [a.pk, b.pk]
    assert "a" * 64 not in body.decode()  # no hash leaves
    assert AuditEvent.objects.filter(action="live.alert_raised").count() == 1

    closed = intake.record_event(alert_event("alert_closed", {b.pk: 3, a.pk: 9}, last=40.0))
    assert closed.pk == alert.pk and not closed.ongoing and closed.stream_end == 40.0
    assert LiveAlert.objects.count() == 1 and len(hook.posts) == 2


@pytest.mark.django_db
def test_an_alert_on_entries_no_longer_active_is_not_recorded(hook):
    bank = new_bank("confirmed_csam")
    gone = entry(bank, "c" * 64, status="disabled")
    assert intake.record_event(alert_event("alert_opened", {gone.pk: 2, 999999: 1})) is None
    assert LiveAlert.objects.count() == 0 and hook.posts == []


@pytest.mark.django_db
def test_a_webhook_that_fails_is_recorded_and_the_case_kept(hook):
    hook.post_status = 500
    bank = new_bank("confirmed_csam")
    alert = intake.record_event(alert_event("alert_opened", {entry(bank, "d" * 64).pk: 0}))
    assert LiveAlert.objects.get().webhook_error == "the webhook answered HTTP 500" == alert.webhook_error


@pytest.mark.django_db
def test_malformed_events_are_refused_and_write_nothing():
    with pytest.raises(intake.BadEvent):
        intake.record_event({"event": "alert_opened", "stream": "x", "alert": {"key": "k"}})
    with pytest.raises(intake.BadEvent):
        intake.record_event(alert_event("alert_opened", {"not a number": 1}))
    assert intake.record_event({"event": "session_started", "stream": "x"}) is None
    assert LiveAlert.objects.count() == 0


@pytest.fixture
def recorded(db):
    bank = new_bank("confirmed_csam", name="Confirmed")
    return intake.record_event(alert_event("alert_opened", {entry(bank, "e" * 64, category="B").pk: 4}))


def test_analysts_see_alerts_as_they_arrive(staff_client, recorded):
    client, _ = staff_client("analyst")
    page = client.get("/staff/live/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'hx-get="/staff/live/rows/"' in text and 'hx-trigger="every 3s"' in text
    assert f"Alert {recorded.pk}" in text and "Confirmed: baseline (B)" in text
    assert "<img" not in text and "<video" not in text
    bank = new_bank("confirmed_csam", name="Second")
    later = intake.record_event(alert_event("alert_opened", {entry(bank, "f" * 64).pk: 1}, key="k2"))
    rows = client.get("/staff/live/rows/").content.decode()
    assert f"Alert {later.pk}" in rows and rows.index(f"Alert {later.pk}") < rows.index(
        f"Alert {recorded.pk}"
    )
    assert "<html" not in rows


@pytest.mark.parametrize("role", ["industry_member", "law_enforcement", None])
def test_other_roles_do_not_see_live_alerts(staff_client, recorded, role):
    client, _ = staff_client(role)
    assert client.get("/staff/live/").status_code in (302, 403)
    assert client.get(f"/staff/live/{recorded.pk}/").status_code in (302, 403)


def test_an_analyst_acknowledges_then_confirms_with_history_and_audit(staff_client, recorded):
    client, user = staff_client("analyst")
    client.post(f"/staff/live/{recorded.pk}/state/", {"to": "acknowledged"})
    client.post(f"/staff/live/{recorded.pk}/state/", {"to": "confirmed", "note": "known series"})
    recorded.refresh_from_db()
    assert recorded.state == "confirmed"
    assert [(h.from_state, h.to_state, h.by_id) for h in recorded.history.all()] == [
        ("new", "acknowledged", user.pk),
        ("acknowledged", "confirmed", user.pk),
    ]
    assert AuditEvent.objects.filter(action="live.transition", outcome="success").count() == 2
    # A confirmed alert cannot move again.
    page = client.post(f"/staff/live/{recorded.pk}/state/", {"to": "false_alert", "note": "x"}, follow=True)
    assert "cannot become" in page.content.decode()
    recorded.refresh_from_db()
    assert recorded.state == "confirmed"


def test_a_false_alert_needs_a_reason(staff_client, recorded):
    client, _ = staff_client("senior_analyst")
    page = client.post(f"/staff/live/{recorded.pk}/state/", {"to": "false_alert"}, follow=True)
    assert "say why" in page.content.decode()
    recorded.refresh_from_db()
    assert recorded.state == "new"


def test_administrators_see_but_do_not_work_alerts(staff_client, make_user, recorded):
    client, admin = staff_client("administrator")
    assert client.get(f"/staff/live/{recorded.pk}/").status_code == 200
    assert client.post(f"/staff/live/{recorded.pk}/state/", {"to": "acknowledged"}).status_code == 403
    with pytest.raises(cases.NotAllowed):
        cases.transition(recorded.pk, "acknowledged", by=admin)
    recorded.refresh_from_db()
    assert recorded.state == "new"
    assert AuditEvent.objects.filter(action="live.transition", outcome="denied").count() == 1
