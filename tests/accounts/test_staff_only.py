"""Sessions are for staff roles only: an API-only account (industry member, partner hotline) cannot
sign in, cannot enrol a second factor, and cannot call the API by session, whatever it holds."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpers import current_totp, sign_in_client
from openmnr.accounts.roles import ROLES, role_grants
from openmnr.audit.models import AuditEvent

PASSWORD = "correct horse battery 9"
API_ONLY = [role.name for role in ROLES if not role.staff]
STAFF = [role.name for role in ROLES if role.staff]


def test_the_staff_site_permission_is_held_by_exactly_the_staff_roles(db):
    holders = {name for name, grants in role_grants().items() if ("accounts", "access_staff_home") in grants}
    assert holders == set(STAFF)
    assert API_ONLY == ["industry_member", "partner_hotline", "blocking_licensee"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", API_ONLY)
def test_an_api_only_account_cannot_sign_in_with_its_password(client, make_user, role):
    user = make_user(role)
    TOTPDevice.objects.filter(user=user).delete()  # as the demo makes them: no device
    response = client.post(
        "/accounts/sign-in/", {"username": user.username, "password": PASSWORD, "token": ""}
    )
    assert response.status_code == 400
    assert "not right" in response.content.decode()  # the same answer as a wrong password
    assert "_auth_user_id" not in client.session
    assert client.get("/accounts/second-factor/").status_code == 302  # to sign-in: no session
    failure = AuditEvent.objects.filter(action="sign_in", outcome="failure").last()
    assert failure.detail == {"username": user.username, "reason": "not a staff account"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", API_ONLY)
def test_an_api_only_account_cannot_enrol_a_second_factor(client, make_user, role):
    user = make_user(role)
    TOTPDevice.objects.filter(user=user).delete()
    sign_in_client(client, user, verified=False)  # a session obtained before this rule, say
    page = client.get("/accounts/second-factor/")
    assert page.status_code == 403
    assert "API keys only" in page.content.decode() and "otpauth://" not in page.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert client.post("/accounts/second-factor/", {"token": "123456"}).status_code in (302, 403)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="second_factor.enrol", outcome="denied").exists()
    assert "_auth_user_id" not in client.session  # signed out


@pytest.mark.django_db
@pytest.mark.parametrize("role", API_ONLY)
def test_an_api_only_account_cannot_use_the_api_by_session(client, make_user, role):
    user = make_user(role)
    sign_in_client(client, user)  # even a session with a verified device, as the attack had
    assert client.get("/api/v1/whoami").status_code == 401
    assert client.post("/api/v1/match", {"pdq": "0" * 64}, content_type="application/json").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF)
def test_every_staff_role_signs_in_enrols_and_uses_the_api_by_session(client, make_user, role):
    user = make_user(role)
    response = client.post(
        "/accounts/sign-in/", {"username": user.username, "password": PASSWORD, "token": current_totp(user)}
    )
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/api/v1/whoami").json()["roles"] == [role]

    newcomer = make_user(role)
    TOTPDevice.objects.filter(user=newcomer).delete()
    other = client.__class__()
    sign_in_client(other, newcomer, verified=False)
    page = other.get("/accounts/second-factor/")
    assert page.status_code == 200 and "otpauth://" in page.content.decode()


@pytest.mark.django_db
def test_each_visit_to_enrolment_shows_a_new_secret(client, make_user):
    user = make_user("analyst")
    TOTPDevice.objects.filter(user=user).delete()
    sign_in_client(client, user, verified=False)
    first = client.get("/accounts/second-factor/").context["uri"]
    second = client.get("/accounts/second-factor/").context["uri"]
    assert first != second
    assert TOTPDevice.objects.filter(user=user).count() == 1  # the first secret is gone


@pytest.mark.django_db
def test_session_api_calls_are_rate_limited_per_user(staff_client, make_user, settings):
    settings.API_SESSION_CALLS_PER_MINUTE = 3
    client, _ = staff_client("analyst")
    statuses = [client.get("/api/v1/whoami").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.post("/api/v1/match", {"pdq": "0" * 64}, content_type="application/json").status_code == 429
    other = sign_in_client(client.__class__(), make_user("analyst"))  # another analyst: their own count
    assert other.get("/api/v1/whoami").status_code == 200
