"""API keys for industry members and partner hotlines: random, shown once, stored hashed, scoped,
revocable, each with its own rate limit."""

import copy
import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit

from .models import ApiKey
from .roles import remember_roles

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
    forget_cached()  # again after the commit: a call that read the key before it
    transaction.on_commit(forget_cached)
    audit.record("api_key.revoke", request=request, actor=revoked_by, obj=key, detail={"prefix": key.prefix})


# Every API call presents its key. Looking the key and its owner up, then the owner's permissions
# (two statements) and roles (one) on each call cost about as much as the rest of a whoami, so each
# process remembers a successful check for API_KEY_CACHE_SECONDS, as /ispws/ does for its
# credentials (INDUSTRY_AUTH_CACHE_SECONDS): the key row with its owner, the owner's permissions
# and roles read at the same moment, trusted together for that long. The trade-off: a revocation,
# a deactivated owner or a role taken away reaches the other processes up to that much later (in
# the process that made the change the cache is emptied at once, by ``revoke_api_key`` and by the
# signals below). The cache is keyed by the SHA-256 of the presented text, so no secret is held;
# failures are never remembered (an unknown key costs its lookup every time, as before); the cache
# is emptied when it grows past a bound. Each call gets its own copies of the key and its owner, so
# nothing a request sets on them reaches another request. The rate limit is not cached: every call
# is still counted in the database, exactly, across processes.
_cache: dict[str, tuple[float, ApiKey]] = {}
_cache_lock = threading.Lock()
_cache_generation = [0]  # bumped by forget_cached: a lookup that overlapped it is not remembered
_CACHE_ENTRIES = 10_000


def forget_cached(**_signal) -> None:
    """Empty this process's cache of checked keys (also a signal receiver, see ``connect``)."""
    with _cache_lock:
        _cache.clear()
        _cache_generation[0] += 1


def find_api_key(text: str) -> ApiKey | None:
    """The active key that `text` is (its owner loaded, with the owner's permissions and roles),
    or None. Compares digests in constant time; a successful check is remembered for
    API_KEY_CACHE_SECONDS."""
    ttl = settings.API_KEY_CACHE_SECONDS
    if ttl <= 0:
        return _lookup(text)
    name = _digest(text)
    with _cache_lock:
        hit = _cache.get(name)
        generation = _cache_generation[0]
    if hit is not None and hit[0] > time.monotonic():
        note_use(hit[1])
        return _own_copy(hit[1])
    key = _lookup(text)
    if key is None:
        return None
    key.owner.get_all_permissions()  # fills the owner's permission caches (has_perm reads them)
    remember_roles(key.owner)
    with _cache_lock:
        if generation == _cache_generation[0]:
            if len(_cache) >= _CACHE_ENTRIES:
                _cache.clear()
            _cache[name] = (time.monotonic() + ttl, key)
    return _own_copy(key)


def _lookup(text: str) -> ApiKey | None:
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


def _own_copy(key: ApiKey) -> ApiKey:
    """A request's own key and owner objects (the permission and role caches are shared: read-only)."""
    mine = copy.copy(key)
    mine.owner = copy.copy(key.owner)
    return mine


def connect() -> None:
    """Empty the cache on any change that could refuse a remembered key: the key's row, its
    owner's row (deactivation), the owner's groups or permissions, a group's permissions."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save

    user_model = get_user_model()
    for model in (ApiKey, user_model, Group):
        post_save.connect(forget_cached, sender=model, dispatch_uid=f"apikeys-cache-save-{model._meta.label}")
        post_delete.connect(
            forget_cached, sender=model, dispatch_uid=f"apikeys-cache-del-{model._meta.label}"
        )
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            forget_cached, sender=through, dispatch_uid=f"apikeys-cache-m2m-{through._meta.label}"
        )


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
