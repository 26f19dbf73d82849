"""How the JSON API (/api/v1/) authenticates a caller and checks what it may do.

Callers authenticate with an API key (`Authorization: Bearer omnr_...` or `X-API-Key`) or, for
staff pages using htmx, with a signed-in session that passed the second factor. Sessions are for
staff roles only (``roles.may_use_staff_site``): an industry member's or partner hotline's account
is refused by session even if it somehow holds one, and uses its keys. Each key, and each staff
user's session, has its own rate limit; past it the answer is 429 (``RateLimited``, turned into a
response by ``openmnr.web.api``).

Apps' routers call ``require(request, "app.codename")`` first thing, and ``allows`` to decide what
an answer reveals: both look at the caller's role and permissions (through the key's scopes for a
key), never at how it authenticated.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from openmnr.common.apierrors import Refused

from . import apikeys, ratelimit
from .roles import may_use_staff_site


class RateLimited(Exception):
    """The caller's key made more calls this minute than its limit allows."""


def _key_principal(request, text: str):
    key = apikeys.find_api_key(text or "")
    if key is None:
        return None
    if not ratelimit.hit(f"api-key:{key.pk}", key.rate_limit_per_minute, 60):
        raise RateLimited()
    request.api_key = key
    request.user = key.owner
    return key


class BearerKey(HttpBearer):
    def authenticate(self, request, token):
        return _key_principal(request, token)


class HeaderKey(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request, key):
        return _key_principal(request, key)


class StaffSession(SessionAuth):
    """A staff user's browser session, only once its second factor is verified.

    CSRF protects sessions only, so it is checked only for a caller that is one: a request that
    carries an API key header (a wrong or revoked key included) or no session cookie at all is not
    a session caller and gets the API's 401, never a CSRF refusal. A session caller without a valid
    CSRF token gets 403 ``csrf_failed`` in the API's error shape.
    """

    def _get_key(self, request):
        return request.COOKIES.get(self.param_name)  # CSRF is checked in __call__

    def __call__(self, request):
        if "Authorization" in request.headers or HeaderKey.param_name in request.headers:
            return None
        cookie = request.COOKIES.get(self.param_name)
        user = self.authenticate(request, cookie) if cookie else None
        if user is None:  # no session, or not a verified staff one: 401, whatever its CSRF token
            return None
        if (
            self.csrf
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise Refused(
                403,
                "csrf_failed",
                "A staff session's call needs its CSRF token (X-CSRFToken header); "
                "programs should use an API key instead.",
            )
        return user

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or isinstance(user, AnonymousUser) or not user.is_verified():
            return None
        if not may_use_staff_site(user):
            return None
        if not ratelimit.hit(f"api-session:{user.pk}", settings.API_SESSION_CALLS_PER_MINUTE, 60):
            raise RateLimited()
        request.api_key = None
        return user


def authenticators() -> list:
    """The ways in, in the order they are tried."""
    return [BearerKey(), HeaderKey(), StaffSession()]


def allows(request, permission: str) -> bool:
    """Whether the caller holds `permission`: a key through its scopes and its owner's role, a
    staff session through the user's role."""
    key = getattr(request, "api_key", None)
    if key is not None:
        return apikeys.key_allows(key, permission)
    return request.user.is_authenticated and request.user.has_perm(permission)


def require(request, permission: str) -> None:
    """Refuse with 403 unless the caller (key or staff user) holds `permission`."""
    if not allows(request, permission):
        raise Refused(
            403, "forbidden", "This caller may not do that: its role or its key's scopes do not allow it."
        )
