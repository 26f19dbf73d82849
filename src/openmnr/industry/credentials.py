"""Provider credentials for /ispws/: issued by an administrator, shown once, stored hashed, revocable.

A provider's existing CyberTipline client authenticates with HTTP Basic, a username and a password,
and changes nothing else. We make both: the username names the provider (``ispws-<account>-<n>``)
and the password is 256 random bits, so SHA-256 of it is as good as a slow hash and costs
microseconds on every call (the same argument as for API keys). Each credential acts for one
``industry_member`` account, the *provider*; a provider may hold several (to rotate without a gap)
and sees the same reports through each.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from openmnr.accounts.roles import primary_role, roles_of
from openmnr.audit import services as audit

from .models import Credential

PROVIDER_ROLE = "industry_member"


class CredentialError(ValueError):
    """A credential could not be issued or revoked as asked; the message says why."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def issue(provider, *, by=None, request=None) -> tuple[Credential, str]:
    """A new credential for ``provider`` (an industry member); returns it and the password, which
    is never shown again."""
    if PROVIDER_ROLE not in roles_of(provider) or not provider.is_active:
        raise CredentialError(f"{provider.get_username()} is not an active industry member account")
    base = f"ispws-{provider.get_username()}"[:50]
    number = Credential.objects.filter(provider=provider).count() + 1
    username = f"{base}-{number}"
    while Credential.objects.filter(username=username).exists():
        number += 1
        username = f"{base}-{number}"
    secret = secrets.token_urlsafe(32)
    credential = Credential.objects.create(
        username=username, secret_sha256=_digest(secret), provider=provider, created_by=by
    )
    audit.record(
        "industry.credential.issue",
        request=request,
        actor=by,
        obj=credential,
        detail={"username": username, "provider": provider.get_username()},
    )
    return credential, secret


@transaction.atomic
def revoke(credential: Credential, *, by=None, request=None) -> None:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    forget_cached()
    audit.record(
        "industry.credential.revoke",
        request=request,
        actor=by,
        obj=credential,
        detail={"username": credential.username},
    )


def providers():
    """The accounts credentials can be issued to."""
    return get_user_model().objects.filter(groups__name=PROVIDER_ROLE, is_active=True).order_by("username")


def authenticate(header: str) -> Credential | None:
    """The active credential an ``Authorization: Basic ...`` header carries, or None. The digest
    comparison runs in constant time; a wrong username costs the same digest as a wrong password."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        username, sep, password = (
            base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not sep:
        return None
    credential = (
        Credential.objects.select_related("provider")
        .filter(username=username, revoked_at__isnull=True)
        .first()
    )
    digest = _digest(password)
    if credential is None or not credential.provider.is_active:
        hmac.compare_digest(digest, digest)
        return None
    return credential if hmac.compare_digest(credential.secret_sha256, digest) else None


# A provider's client makes five requests per report with the same header. Looking the credential
# and the provider's permissions up each time costs more than the rest of a small request, so each
# process remembers a successful check for INDUSTRY_AUTH_CACHE_SECONDS: a revocation (or a role
# taken away) reaches the other processes that much later, never more. The cache is keyed by the
# SHA-256 of the header, so no password is held in memory beyond the request; failures are never
# cached, and the cache is emptied when it grows past a bound. The provider's role as its audit
# events name it is read at the same time and trusted as long as the permission.
_cache: dict[str, tuple[float, Credential, bool]] = {}
_cache_lock = threading.Lock()
_CACHE_ENTRIES = 10_000


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def authenticate_cached(header: str, permission: str) -> tuple[Credential | None, bool]:
    """(credential, whether its provider holds ``permission``), remembered for a few seconds."""
    ttl = settings.INDUSTRY_AUTH_CACHE_SECONDS
    key = hashlib.sha256((header or "").encode()).hexdigest()
    now = time.monotonic()
    if ttl > 0:
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
    credential = authenticate(header)
    if credential is None:
        return None, False
    allowed = credential.provider.has_perm(permission)
    # The role its audit events name, read with the permission and trusted as long as it is.
    credential.provider.audit_role = primary_role(credential.provider)
    if ttl > 0:
        with _cache_lock:
            if len(_cache) >= _CACHE_ENTRIES:
                _cache.clear()
            _cache[key] = (now + ttl, credential, allowed)
    return credential, allowed
