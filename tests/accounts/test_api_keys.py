"""API keys: random, shown once, stored hashed, scoped, revocable, each with its own rate limit."""

import hashlib

import pytest

from openmnr.accounts import apikeys
from openmnr.accounts.models import ApiKey
from openmnr.audit.models import AuditEvent


@pytest.fixture
def industry(make_user):
    return make_user("industry_member")


@pytest.mark.django_db
def test_key_is_shown_once_and_stored_only_as_a_digest(staff_client, industry):
    client, admin_user = staff_client("administrator")
    response = client.post(
        "/accounts/api-keys/", {"name": "Platform X", "owner": industry.pk, "rate_limit_per_minute": 100}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Platform X")
    text = response.context["new_key_text"]
    assert text.startswith(f"omnr_{key.prefix}_")
    secret = text.split("_", 2)[2]
    assert key.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiKey.objects.values()))
    assert secret not in client.get("/accounts/api-keys/").content.decode()
    assert AuditEvent.objects.filter(
        action="api_key.create", object_id=str(key.pk), actor=admin_user.username
    ).exists()


@pytest.mark.django_db
def test_key_authenticates_until_revoked(client, industry):
    key, text = apikeys.create_api_key(owner=industry, name="k", scopes=[])
    assert (
        client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {text}"}).json()["kind"] == "api_key"
    )
    assert client.get("/api/v1/whoami", headers={"X-API-Key": text}).status_code == 200
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {text}x"}).status_code == 401
    apikeys.revoke_api_key(key)
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {text}"}).status_code == 401
    assert AuditEvent.objects.filter(action="api_key.revoke", object_id=str(key.pk)).exists()


@pytest.mark.django_db
def test_each_key_has_its_own_rate_limit(client, industry):
    _, slow = apikeys.create_api_key(owner=industry, name="slow", scopes=[], rate_limit_per_minute=3)
    _, fast = apikeys.create_api_key(owner=industry, name="fast", scopes=[], rate_limit_per_minute=100)
    codes = [
        client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {slow}"}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {fast}"}).status_code == 200


@pytest.mark.django_db
def test_scopes_cannot_exceed_the_owner_role(industry):
    with pytest.raises(apikeys.ApiKeyError):
        apikeys.create_api_key(owner=industry, name="k", scopes=["audit.view_audit_log"])


@pytest.mark.django_db
def test_key_acts_only_within_scope_and_role(industry, make_user):
    from django.contrib.auth.models import Group

    admin_user = make_user("administrator")
    key, _ = apikeys.create_api_key(owner=admin_user, name="k", scopes=["accounts.manage_api_keys"])
    assert apikeys.key_allows(key, "accounts.manage_api_keys")
    assert not apikeys.key_allows(key, "audit.view_audit_log")  # held by the role, not in scope
    admin_user.groups.remove(Group.objects.get(name="administrator"))
    from django.contrib.auth import get_user_model

    key.owner = get_user_model().objects.get(pk=admin_user.pk)  # fresh permission cache
    assert not apikeys.key_allows(key, "accounts.manage_api_keys")  # in scope, no longer held
