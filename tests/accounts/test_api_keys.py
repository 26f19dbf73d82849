"""API keys: random, shown once, stored hashed, scoped, revocable, each with its own rate limit."""

import hashlib
import re

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
    form = {"name": "Platform X", "owner": industry.pk, "rate_limit_per_minute": 100}
    response = client.post("/accounts/api-keys/", form, follow=True)
    # POST-redirect-GET: the key is on the page after the redirect, once.
    assert response.redirect_chain == [("/accounts/api-keys/", 302)]
    key = ApiKey.objects.get(name="Platform X")
    page = response.content.decode()
    text = re.search(r'<code class="wrap" id="new-key">([^<]+)</code>', page).group(1)
    assert text.startswith(f"omnr_{key.prefix}_")
    secret = text.split("_", 2)[2]
    assert key.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiKey.objects.values()))
    # Reloading the page neither shows the key again nor issues another.
    assert secret not in client.get("/accounts/api-keys/").content.decode()
    assert ApiKey.objects.filter(name="Platform X").count() == 1
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


@pytest.mark.django_db
def test_last_used_is_kept_to_the_minute_without_a_write_per_call(client, industry, staff_client):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    key, text = apikeys.create_api_key(owner=industry, name="busy", scopes=[])
    headers = {"Authorization": f"Bearer {text}"}
    admin_client, _ = staff_client("administrator")
    assert ">never<" in admin_client.get("/accounts/api-keys/").content.decode()

    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    assert ">never<" not in admin_client.get("/accounts/api-keys/").content.decode()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    assert not [q for q in queries.captured_queries if "last_used_at" in q["sql"] and "UPDATE" in q["sql"]]
    key.refresh_from_db()
    assert key.last_used_at == first
    # A minute later the next call moves it on.
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(seconds=61))
    apikeys.forget_cached()  # as the process's cache of checked keys would have expired by then
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at > first - timedelta(seconds=61) and key.last_used_at <= timezone.now()


@pytest.mark.django_db
def test_a_checked_key_is_remembered_briefly_and_forgotten_on_any_change(client, make_user):
    """A call with a key checked moments ago reads neither the key nor its owner's role again; a
    role taken away, a deactivated owner or a revoked key is refused on the very next call."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner = make_user("partner_hotline")
    key, text = apikeys.create_api_key(owner=partner, name="p", scopes=["hotline.submit_report"])
    headers = {"Authorization": f"Bearer {text}"}
    assert client.get("/api/v1/whoami", headers=headers).json()["roles"] == ["partner_hotline"]
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/api/v1/whoami", headers=headers).json()
    assert answer["roles"] == ["partner_hotline"] and answer["scopes"] == ["hotline.submit_report"]
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_apikey" not in sql and "auth_group" not in sql and "auth_permission" not in sql
    assert "accounts_ratebucket" in sql  # every call is still counted against its rate limit

    report = {"urls": ["https://example.org/cached"]}
    post = {"headers": {**headers, "Idempotency-Key": "c-1"}, "content_type": "application/json"}
    assert client.post("/api/v1/reports", report, **post).status_code == 202
    partner.groups.remove(Group.objects.get(name="partner_hotline"))
    post["headers"]["Idempotency-Key"] = "c-2"
    assert client.post("/api/v1/reports", report, **post).status_code == 403
    assert client.get("/api/v1/whoami", headers=headers).json()["roles"] == []

    partner.groups.add(Group.objects.get(name="partner_hotline"))
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    partner.is_active = False
    partner.save()
    assert client.get("/api/v1/whoami", headers=headers).status_code == 401
    partner.is_active = True
    partner.save()
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    apikeys.revoke_api_key(key)
    assert client.get("/api/v1/whoami", headers=headers).status_code == 401


@pytest.mark.django_db
def test_without_the_cache_every_call_checks_the_key(client, industry, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.API_KEY_CACHE_SECONDS = 0
    _key, text = apikeys.create_api_key(owner=industry, name="k", scopes=[])
    headers = {"Authorization": f"Bearer {text}"}
    assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/whoami", headers=headers).status_code == 200
    assert any("accounts_apikey" in q["sql"] for q in queries.captured_queries)
