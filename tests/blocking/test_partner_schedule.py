"""The worker's clock fetches partners' signed exports on a schedule (a real HTTP server on
127.0.0.1 plays the partner): success and failure are written on the partner's row and audited, a
bad signature changes nothing, and the partner's minimum wait and a 429's Retry-After are honoured
by the clock and by "fetch now"."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from blocking.partner_server import PARTNER_PEM
from openmnr.audit.models import AuditEvent
from openmnr.blocking import services
from openmnr.blocking.errors import FetchUnderWay, PartnerBusy
from openmnr.blocking.models import ListEntry, PartnerList
from openmnr.blocking.services import partner_schedule, partners
from openmnr.web import clock

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


@pytest.fixture
def hourly(settings):
    settings.BLOCKING_PARTNER_FETCH_SECONDS = 3600


def _register(server, admin, **extra) -> PartnerList:
    return partners.register(
        "hotline-b",
        "openmnr",
        redistribute=True,
        source_url=server.url,
        public_key_pem=PARTNER_PEM,
        by=admin,
        **extra,
    )


def _row(partner) -> PartnerList:
    return PartnerList.objects.get(pk=partner.pk)


def _imports(outcome):
    return AuditEvent.objects.filter(action="blocking.partner_import", outcome=outcome).count()


def test_the_clock_fetches_each_partner_when_due_and_removals_follow_the_partner(
    partner_server, make_user, hourly
):
    partner = _register(partner_server, make_user("administrator"))
    partner_server.publish(1, ["bad.example/gallery/", "worse.example/a/1.jpg"])
    now = timezone.now()

    assert "openmnr.blocking.services.partner_schedule.clock_job" in clock.JOBS
    assert partner_schedule.clock_job(now) == {"fetched": 1, "failed": 0}
    row = _row(partner)
    assert (row.version, row.entries.count(), row.last_error, row.failures_in_a_row) == (1, 2, "", 0)
    assert (row.last_attempt_at, row.next_fetch_at) == (now, now + HOUR)
    event = AuditEvent.objects.filter(action="blocking.partner_import").get()
    assert (event.outcome, event.actor, event.detail["count"]) == ("success", "system", 2)
    services.publish()
    assert ListEntry.objects.filter(removed_version__isnull=True).count() == 2

    partner_server.publish(2, ["worse.example/a/1.jpg"])  # the partner saw the gallery removed
    assert partner_schedule.clock_job(now + timedelta(minutes=59)) == {"fetched": 0, "failed": 0}
    assert partner_server.requests == 1, "not due: the partner is not asked"
    assert partner_schedule.clock_job(now + HOUR) == {"fetched": 1, "failed": 0}
    assert (_row(partner).version, _row(partner).entries.count()) == (2, 1)
    services.publish()
    live = ListEntry.objects.filter(removed_version__isnull=True).values_list("expression", flat=True)
    assert list(live) == ["worse.example/a/1.jpg"]


def test_a_bad_signature_is_recorded_on_the_row_audited_and_changes_nothing(
    partner_server, make_user, hourly
):
    partner = _register(partner_server, make_user("administrator"))
    partner_server.publish(1, ["bad.example/"])
    now = timezone.now()
    partner_schedule.clock_job(now)

    partner_server.publish(2, ["innocent.example/"], key=Ed25519PrivateKey.generate())
    assert partner_schedule.clock_job(now + HOUR) == {"fetched": 0, "failed": 1}
    row = _row(partner)
    assert "signed" in row.last_error and row.failures_in_a_row == 1
    assert (row.version, list(row.entries.values_list("expression", flat=True))) == (1, ["bad.example/"])
    assert row.next_fetch_at == now + 2 * HOUR, "tried again at the next interval, not sooner"
    assert _imports("failure") == 1

    partner_server.refuse(503)
    partner_schedule.clock_job(now + 2 * HOUR)
    row = _row(partner)
    assert (row.last_error, row.failures_in_a_row) == ("the partner's export cannot be fetched: HTTP 503", 2)

    partner_server.publish(3, ["bad.example/", "new.example/"])
    assert partner_schedule.clock_job(now + 3 * HOUR) == {"fetched": 1, "failed": 0}
    row = _row(partner)
    assert (row.last_error, row.failures_in_a_row, row.version) == ("", 0, 3)


def test_a_429_is_honoured_by_the_clock_and_by_fetch_now(partner_server, make_user, settings):
    settings.BLOCKING_PARTNER_FETCH_SECONDS = 60
    partner = _register(partner_server, make_user("administrator"))
    partner_server.refuse(429, {"Retry-After": "7200"})
    now = timezone.now()

    assert partner_schedule.clock_job(now) == {"fetched": 0, "failed": 1}
    row = _row(partner)
    assert row.not_before == now + timedelta(seconds=7200) == row.next_fetch_at
    assert "429" in row.last_error and "7200 seconds" in row.last_error
    for minutes in (1, 30, 119):
        partner_schedule.clock_job(now + timedelta(minutes=minutes))
    assert partner_server.requests == 1, "nobody asks before the partner's Retry-After"

    senior = make_user("senior_analyst")
    with pytest.raises(PartnerBusy, match="wait"):
        partner_schedule.fetch_now(row, by=senior, now=now + timedelta(minutes=5))
    assert partner_server.requests == 1
    assert AuditEvent.objects.filter(action="blocking.partner_fetch", outcome="failure").count() == 1

    partner_server.publish(1, ["bad.example/"])
    outcome = partner_schedule.fetch_now(_row(partner), by=senior, now=now + timedelta(seconds=7201))
    assert outcome.ok and _row(partner).entries.count() == 1 and _row(partner).not_before is None
    assert AuditEvent.objects.filter(action="blocking.partner_import", outcome="success").get().actor == (
        senior.get_username()
    )


def test_the_partners_minimum_wait_outlasts_a_shorter_interval(partner_server, make_user, settings):
    settings.BLOCKING_PARTNER_FETCH_SECONDS = 60
    partner = _register(partner_server, make_user("administrator"), min_wait_seconds=600)
    partner_server.publish(1, ["bad.example/"])
    now = timezone.now()
    partner_schedule.clock_job(now)
    partner_schedule.clock_job(now + timedelta(minutes=2))
    assert partner_server.requests == 1
    assert partner_schedule.clock_job(now + timedelta(seconds=600)) == {"fetched": 1, "failed": 0}
    assert _row(partner).next_fetch_at == now + timedelta(seconds=1200)


def test_no_schedule_at_zero_and_one_fetch_at_a_time(partner_server, make_user, settings):
    settings.BLOCKING_PARTNER_FETCH_SECONDS = 0
    partner = _register(partner_server, make_user("administrator"))
    partner_server.publish(1, ["bad.example/"])
    assert partner_schedule.clock_job() == {"fetched": 0, "failed": 0}
    assert partner_server.requests == 0

    settings.BLOCKING_PARTNER_FETCH_SECONDS = 3600
    now = timezone.now()
    PartnerList.objects.filter(pk=partner.pk).update(fetching_until=now + timedelta(minutes=5))
    assert partner_schedule.clock_job(now) == {"fetched": 0, "failed": 0}, "another worker holds it"
    with pytest.raises(FetchUnderWay):
        partner_schedule.fetch_now(_row(partner), by=make_user("senior_analyst"), now=now)
    assert partner_server.requests == 0
    # A worker killed mid-fetch leaves its lease; it runs out and the next tick fetches.
    assert partner_schedule.clock_job(now + timedelta(minutes=6)) == {"fetched": 1, "failed": 0}


def test_retry_after_in_seconds_or_as_a_date():
    now = timezone.now().replace(microsecond=0)
    assert partners.retry_after("120") == 120
    assert partners.retry_after("99999999") == partners.MAX_WAIT_SECONDS
    date = (now + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert partners.retry_after(date, now=now) == 90
    assert partners.retry_after("soon") is None and partners.retry_after("") is None


def test_the_operators_command_fetches_as_the_clock_does(partner_server, make_user, tmp_path):
    from django.core.management import CommandError, call_command

    partner = _register(partner_server, make_user("administrator"))
    partner_server.publish(1, ["bad.example/"])
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        call_command("urllist_partner", "fetch", "hotline-b", stdout=stream)
    assert out.read_text() == "hotline-b: 1 entries, +1 -0\n"
    assert _row(partner).last_attempt_at is not None
    partner_server.refuse(500)
    with pytest.raises(CommandError, match="HTTP 500"):
        call_command("urllist_partner", "fetch", "hotline-b")
    assert _row(partner).failures_in_a_row == 1
