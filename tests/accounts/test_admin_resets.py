"""Administrators cannot act as another user quietly: they never see second-factor secrets, and a
password or second-factor reset needs step-up, ends the user's sessions, forces re-enrolment, is
audited and tells the user."""

import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpers import current_totp, sign_in_client
from openmnr.accounts.models import AccountNotice
from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.audit.models import AuditEvent

PASSWORD = "correct horse battery 9"
NEW_PASSWORD = "a brand new passphrase 42"


@pytest.fixture
def admin_client(client, make_user):
    admin_user = make_user("administrator")
    return sign_in_client(client, admin_user), admin_user


def _stale_step_up(client):
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()


@pytest.mark.django_db
def test_the_admin_site_never_shows_a_second_factor_secret(admin_client, make_user, settings):
    client, _ = admin_client
    analyst = make_user("analyst")
    device = TOTPDevice.objects.get(user=analyst)
    secret_forms = [device.key, device.config_url.split("secret=")[1].split("&")[0]]
    pages = [
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/admin/auth/user/{analyst.pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "otpauth://" not in html and "qrcode" not in html.lower(), url
        assert not any(secret.lower() in html.lower() for secret in secret_forms), url
    for url in (
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
    ):
        assert client.get(url).status_code in (302, 403, 404), url
    assert settings.OTP_ADMIN_HIDE_SENSITIVE_DATA is True


@pytest.mark.django_db
def test_administrators_cannot_delete_or_change_devices_directly(admin_client, make_user):
    client, _ = admin_client
    device = TOTPDevice.objects.get(user=make_user("analyst"))
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/change/", {"name": "x"}).status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_setting_another_users_password_needs_step_up(admin_client, make_user):
    client, _ = admin_client
    analyst = make_user("analyst")
    _stale_step_up(client)
    url = f"/admin/auth/user/{analyst.pk}/password/"
    response = client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="account.reset").exists()


@pytest.mark.django_db
def test_a_password_reset_forces_re_enrolment_ends_sessions_is_audited_and_tells_the_user(
    admin_client, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    client, admin_user = admin_client
    analyst = make_user("analyst")
    analyst.email = "analyst@hotline.test"
    analyst.save()
    victim_session = sign_in_client(client.__class__(), analyst)
    assert victim_session.get("/staff/").status_code == 200

    url = f"/admin/auth/user/{analyst.pk}/password/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        )
    assert response.status_code == 302

    analyst.refresh_from_db()
    assert analyst.check_password(NEW_PASSWORD)
    assert not TOTPDevice.objects.filter(user=analyst).exists()  # must enrol again
    assert victim_session.get("/staff/").status_code == 302  # the open session ended
    event = AuditEvent.objects.get(action="account.reset")
    assert (event.actor, event.object_id) == (admin_user.username, str(analyst.pk))
    assert event.detail["password"] is True and event.detail["second_factor_devices_removed"] == 1
    assert NEW_PASSWORD not in str(event.detail)
    [mail] = mailoutbox
    assert mail.to == ["analyst@hotline.test"] and admin_user.username in mail.body

    # Whoever signs in next with the new password lands on enrolment, which says what happened.
    fresh = client.__class__()
    response = fresh.post("/accounts/sign-in/", {"username": analyst.username, "password": NEW_PASSWORD})
    assert response["Location"] == "/accounts/second-factor/"
    page = fresh.get("/accounts/second-factor/").content.decode()
    assert f"Administrator {admin_user.username} reset your password and second factor" in page
    assert AccountNotice.objects.filter(user=analyst, read_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_second_factor_reset_needs_step_up_and_is_audited(admin_client, make_user):
    client, admin_user = admin_client
    analyst = make_user("analyst")
    url = f"/admin/auth/user/{analyst.pk}/reset-second-factor/"
    _stale_step_up(client)
    assert client.post(url)["Location"].startswith("/accounts/step-up/")
    assert TOTPDevice.objects.filter(user=analyst).exists()

    client.post(f"/accounts/step-up/?next={url}", {"token": current_totp(admin_user)})
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not TOTPDevice.objects.filter(user=analyst).exists()
    event = AuditEvent.objects.get(action="account.reset")
    assert event.detail["password"] is False and event.actor == admin_user.username
    assert AccountNotice.objects.filter(user=analyst).exists()


@pytest.mark.django_db
def test_nobody_changes_their_own_roles_or_makes_a_superuser(admin_client, make_user):
    client, admin_user = admin_client
    own = client.get(f"/admin/auth/user/{admin_user.pk}/change/").content.decode()
    other = client.get(f"/admin/auth/user/{make_user('analyst').pk}/change/").content.decode()
    assert 'name="groups"' not in own and 'name="groups"' in other
    for page in (own, other):
        assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
