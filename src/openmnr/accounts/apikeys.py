"""API keys for industry members and partner hotlines: random, shown once, stored hashed, scoped,
revocable, each with its own rate limit."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit

from .models import ApiKey

KEY_PREFIX = "omnr"


class ApiKeyError(ValueError):
    """A key could not be issued as asked (for example a scope its owner does not hold)."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_key(
    *, owner, name: str, scopes: list[str], rate_limit_per_minute: int = 600, created_by=None, request=None
) -> tuple[ApiKey, str]:
    """Issue a key; returns the stored key and the full key text, which is never shown again."""
    for scope in scopes:
        if not owner.has_perm(scope):
            raise ApiKeyError(f"{owner.get_username()} does not hold the permission {scope!r}")
    if rate_limit_per_minute < 1:
        raise ApiKeyError("the rate limit must be at least one call a minute")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        prefix=prefix,
        secret_sha256=_digest(secret),
        name=name,
        owner=owner,
        scopes=sorted(scopes),
        rate_limit_per_minute=rate_limit_per_minute,
        created_by=created_by,
    )
    audit.record(
        "api_key.create",
        request=request,
        actor=created_by,
        obj=key,
        detail={"prefix": prefix, "owner": owner.get_username(), "scopes": key.scopes},
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_api_key(key: ApiKey, *, revoked_by=None, request=None) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    audit.record("api_key.revoke", request=request, actor=revoked_by, obj=key, detail={"prefix": key.prefix})


def find_api_key(text: str) -> ApiKey | None:
    """The active key that `text` is, or None. Compares digests in constant time."""
    parts = text.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("owner").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not key.owner.is_active:
        return None
    if not hmac.compare_digest(key.secret_sha256, _digest(parts[2])):
        return None
    note_use(key)
    return key


LAST_USED_RESOLUTION = timedelta(minutes=1)


def note_use(key: ApiKey) -> None:
    """Keep "last used" to the minute without a write per call: the key row loaded to check the
    key already says when it was last noted, so a call within a minute of that writes nothing; an
    older one updates it with a conditional UPDATE, so processes racing on the same key write it
    once between them. A busy key thus costs one write a minute, not one per call."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


def key_allows(key: ApiKey, permission: str) -> bool:
    """A key may do what is both in its scopes and still held by its owner's role."""
    return permission in key.scopes and key.owner.has_perm(permission)
