"""The public rate limits count under a key that exists only for its hour: once the hour is over,
its counters and its key are deleted, and nothing left (not even with SECRET_KEY) ties a counter
to the reporter's address."""

import hashlib
import hmac
from datetime import timedelta
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from openmnr.accounts.models import RateBucket, WindowKey
from openmnr.hotline.models import Submission

REPORT = {
    "urls": "https://example.org/a",
    "found_where": "web_page",
    "content_kind": "csam",
    "description": "",
    "email": "",
}
ADDRESS = "203.0.113.99"

pytestmark = pytest.mark.django_db


def _report(client, addr=ADDRESS):
    """POST as a browser sends the form: URL-encoded, the only encoding it accepts."""
    body = urlencode(REPORT)
    return client.post("/report/", body, content_type="application/x-www-form-urlencoded", REMOTE_ADDR=addr)


def _later(minutes):
    moment = timezone.now() + timedelta(minutes=minutes)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_a_counter_says_which_hour_not_when_the_report_came(client):
    assert _report(client).status_code == 200
    received = Submission.objects.get().received_at
    [bucket] = RateBucket.objects.filter(key__startswith="hotline-report:")
    assert bucket.window_start.minute == bucket.window_start.second == bucket.window_start.microsecond == 0
    assert bucket.window_start <= received < bucket.expires_at == bucket.window_start + timedelta(hours=1)
    # Not the old scheme, an HMAC under a key anyone with SECRET_KEY can derive for the day.
    from django.conf import settings

    day = timezone.now().date().isoformat()
    day_key = hashlib.sha256(f"openmnr hotline rate limit\0{day}\0{settings.SECRET_KEY}".encode()).digest()
    old_name = hmac.new(day_key, ADDRESS.encode(), hashlib.sha256).hexdigest()[:40]
    assert old_name not in bucket.key and ADDRESS not in bucket.key


def test_when_the_hour_ends_its_counters_and_key_are_deleted(client):
    from openmnr.accounts import ratelimit
    from openmnr.web import clock

    _report(client)
    assert WindowKey.objects.filter(purpose="hotline-report").count() == 1
    assert "openmnr.accounts.ratelimit.sweep" in clock.JOBS  # every minute, on the worker's clock
    with _later(61):
        ratelimit.sweep()  # with no new report to trigger anything
    assert not RateBucket.objects.filter(key__startswith="hotline-").exists()
    assert not WindowKey.objects.exists()


def test_the_next_hours_first_report_deletes_the_last_hours_key_and_counters(client, settings):
    settings.HOTLINE_REPORTS_PER_HOUR = 1
    assert _report(client).status_code == 200
    assert _report(client).status_code == 429
    old_key = WindowKey.objects.get(purpose="hotline-report")
    with _later(61):
        assert _report(client).status_code == 200  # a new hour, a new count
    assert not WindowKey.objects.filter(pk=old_key.pk).exists()
    [bucket] = RateBucket.objects.filter(key__startswith="hotline-report:")
    assert bucket.count == 1


def test_two_addresses_are_counted_apart_within_the_hour(client, settings):
    settings.HOTLINE_REPORTS_PER_HOUR = 1
    assert _report(client, "198.51.100.1").status_code == 200
    assert _report(client, "198.51.100.2").status_code == 200
    assert _report(client, "198.51.100.1").status_code == 429
