"""Sign-in with password and TOTP, throttling per (username, address), step-up, session lifetime."""

import time

import pytest
from django.contrib.auth import get_user_model

from helpers import current_totp, sign_in_client
from openmnr.accounts.models import RateBucket
from openmnr.audit.models import AuditEvent

PASSWORD = "correct horse battery 9"


def _sign_in(client, username, password=PASSWORD, token="", addr="203.0.113.5"):
    return client.post(
        "/accounts/sign-in/", {"username": username, "password": password, "token": token}, REMOTE_ADDR=addr
    )


@pytest.mark.django_db
def test_password_and_totp_reach_the_staff_home(client, make_user):
    user = make_user("analyst")
    response = _sign_in(client, user.username, token=current_totp(user))
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    event = AuditEvent.objects.filter(action="sign_in").last()
    assert (event.actor, event.outcome, event.role) == (user.username, "success", "analyst")


@pytest.mark.django_db
def test_wrong_code_or_password_is_refused_and_audited(client, make_user):
    user = make_user("analyst")
    assert _sign_in(client, user.username, token="000000").status_code == 400
    assert _sign_in(client, user.username, password="wrong", token=current_totp(user)).status_code == 400
    assert client.get("/staff/").status_code == 302
    failures = AuditEvent.objects.filter(action="sign_in", outcome="failure")
    assert failures.count() == 2
    assert all(e.detail["username"] == user.username for e in failures)
    assert not any("password" in str(e.detail.get("username")) for e in failures)


@pytest.mark.django_db
def test_first_sign_in_without_device_must_enrol_before_any_staff_page(client, make_user):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = make_user("analyst")
    TOTPDevice.objects.filter(user=user).delete()
    response = _sign_in(client, user.username)
    assert response["Location"] == "/accounts/second-factor/"
    assert client.get("/staff/")["Location"] == "/accounts/second-factor/"
    page = client.get("/accounts/second-factor/")
    assert b"<svg" in page.content and b"otpauth://" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    assert client.post("/accounts/second-factor/", {"token": code})["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.filter(action="second_factor.enrol", actor=user.username).exists()


@pytest.mark.django_db
def test_throttle_locks_the_pair_not_the_user(client, make_user, settings):
    settings.SIGN_IN_MAX_FAILURES = 3
    user = make_user("analyst")
    for _ in range(3):
        _sign_in(client, user.username, password="wrong", addr="198.51.100.7")
    locked = _sign_in(client, user.username, token=current_totp(user), addr="198.51.100.7")
    assert locked.status_code == 400
    assert b"Too many failed attempts" in locked.content
    # The analyst, at their own desk, still gets in.
    other = client.__class__()
    assert _sign_in(other, user.username, token=current_totp(user), addr="203.0.113.9").status_code == 302


@pytest.mark.django_db
def test_throttle_ends_after_the_cool_off(client, make_user, settings):
    settings.SIGN_IN_MAX_FAILURES = 2
    user = make_user("analyst")
    for _ in range(2):
        _sign_in(client, user.username, password="wrong")
    assert b"Too many" in _sign_in(client, user.username, token=current_totp(user)).content
    from datetime import timedelta

    past = timedelta(seconds=settings.SIGN_IN_COOL_OFF_SECONDS + 1)
    bucket = RateBucket.objects.get()
    RateBucket.objects.update(window_start=bucket.window_start - past, expires_at=bucket.expires_at - past)
    assert _sign_in(client, user.username, token=current_totp(user)).status_code == 302


@pytest.mark.django_db
def test_sign_out_is_audited(staff_client):
    client, user = staff_client("analyst")
    client.post("/accounts/sign-out/")
    assert client.get("/staff/").status_code == 302
    assert AuditEvent.objects.filter(action="sign_out", actor=user.username).exists()


@pytest.mark.django_db
def test_session_ends_twelve_hours_after_sign_in_even_if_active(staff_client, settings):
    from openmnr.accounts.middleware import SIGNED_IN_AT

    client, _ = staff_client("analyst")
    assert client.get("/staff/").status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    assert client.get("/staff/").status_code == 302


def test_session_idles_out_after_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.django_db
def test_step_up_is_asked_for_sensitive_actions_after_five_minutes(staff_client, make_user, settings):
    from openmnr.accounts.stepup import SESSION_KEY

    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp delays a retry after a wrong code; not tested here

    client, admin_user = staff_client("administrator")
    owner = make_user("industry_member")
    session = client.session
    session[SESSION_KEY] = time.time() - 301
    session.save()
    response = client.post(
        "/accounts/api-keys/", {"name": "k", "owner": owner.pk, "scopes": [], "rate_limit_per_minute": 10}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    assert client.post(response["Location"], {"token": "000000"}).status_code == 400
    ok = client.post(response["Location"], {"token": current_totp(admin_user)})
    assert ok.status_code == 302
    assert AuditEvent.objects.filter(action="step_up", outcome="success", actor=admin_user.username).exists()


@pytest.mark.django_db
def test_role_changes_are_audited(make_user):
    from django.contrib.auth.models import Group

    user = make_user("analyst")
    user.groups.add(Group.objects.get(name="senior_analyst"))
    event = AuditEvent.objects.filter(action="role.change").last()
    assert event.object_id == str(user.pk) and event.detail["change"] == "add"


@pytest.mark.django_db
def test_users_get_argon2_in_production_settings():
    from django.conf import settings as django_settings

    from openmnr.web import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert any("CommonPasswordValidator" in v["NAME"] for v in django_settings.AUTH_PASSWORD_VALIDATORS)
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password1234", get_user_model()(username="x"))


@pytest.mark.django_db
def test_unverified_session_cannot_use_the_api(client, make_user):
    user = make_user("analyst")
    sign_in_client(client, user, verified=False)
    assert client.get("/api/v1/whoami").status_code == 401
    sign_in_client(client, user)
    assert client.get("/api/v1/whoami").json()["kind"] == "staff"


@pytest.mark.django_db
def test_adding_an_existing_role_records_nothing(make_user):
    from django.contrib.auth.models import Group

    user = make_user("analyst")
    before = AuditEvent.objects.count()
    user.groups.add(Group.objects.get(name="analyst"))
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_thirty_parallel_wrong_passwords_reach_the_password_check_at_most_the_limit(make_user, settings):
    """The throttle counts before the (slow, Argon2) password check, atomically: 30 attempts fired at
    once from one address get exactly SIGN_IN_MAX_FAILURES password checks, the rest are refused."""
    import threading

    from django.db import connection
    from django.test import Client

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = make_user("analyst")
    checks = []
    real_check = type(user).check_password

    def counted_check(self, raw):
        checks.append(raw)
        return real_check(self, raw)

    start = threading.Barrier(30)
    statuses = []

    def attempt(i):
        try:
            client = Client()
            start.wait()
            statuses.append(
                _sign_in(client, user.username, password=f"wrong {i}", addr="192.0.2.30").status_code
            )
        finally:
            connection.close()

    from unittest import mock

    with mock.patch.object(type(user), "check_password", counted_check):
        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [400] * 30
    assert len(checks) == settings.SIGN_IN_MAX_FAILURES == 5
    failures = AuditEvent.objects.filter(action="sign_in", outcome="failure")
    assert failures.filter(detail__reason="throttled").count() == 25
    # And the right password is refused too until the cool-off ends.
    assert (
        b"Too many" in _sign_in(Client(), user.username, token=current_totp(user), addr="192.0.2.30").content
    )
