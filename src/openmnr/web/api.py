"""The JSON API at /api/v1/ (django-ninja). Apps add their routers here.

Callers authenticate with an API key (`Authorization: Bearer omnr_...` or `X-API-Key`) or, for
staff pages using htmx, with a signed-in session that passed the second factor. Each key has its
own rate limit; past it the answer is 429.
"""

from django.contrib.auth.models import AnonymousUser
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from openmnr.accounts import apikeys, ratelimit
from openmnr.accounts.roles import roles_of


class RateLimited(Exception):
    pass


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
    """A browser session, only once its second factor is verified."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is None or isinstance(user, AnonymousUser) or not user.is_verified():
            return None
        request.api_key = None
        return user


def require(request, permission: str) -> None:
    """Refuse with 403 unless the caller (key or staff user) holds `permission`."""
    key = getattr(request, "api_key", None)
    allowed = apikeys.key_allows(key, permission) if key is not None else request.user.has_perm(permission)
    if not allowed:
        raise HttpError(403, "This caller may not do that.")


api = NinjaAPI(
    title="OpenMNR API",
    version="1",
    urls_namespace="api",
    docs_url=None,  # the interactive docs page loads assets from a CDN; the schema is enough
    openapi_url="/openapi.json",
    auth=[BearerKey(), HeaderKey(), StaffSession()],
)


def _add_routers() -> None:
    from openmnr.assessment.api import router as assessment
    from openmnr.banks.api import router as banks
    from openmnr.hotline.api import router as hotline
    from openmnr.takedown.api import router as takedown

    for router in (banks, hotline, takedown, assessment):
        api.add_router("", router)


_add_routers()


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    response = api.create_response(request, {"detail": "Rate limit reached; retry in a minute."}, status=429)
    response["Retry-After"] = "60"
    return response


@api.get("/whoami", summary="Who the API takes the caller for", tags=["accounts"])
def whoami(request):
    key = getattr(request, "api_key", None)
    return {
        "kind": "api_key" if key else "staff",
        "name": key.name if key else request.user.get_username(),
        "roles": roles_of(request.user),
        "scopes": key.scopes if key else None,
    }
