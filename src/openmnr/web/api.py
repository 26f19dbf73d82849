"""The JSON API at /api/v1/ (django-ninja): one NinjaAPI that mounts every app's router.

An installed app with an ``api`` module exposing ``router`` is mounted, in INSTALLED_APPS order:
there is no list to edit when an app is added. Authentication and permission checks live below the
apps, in ``openmnr.accounts.apiauth``.
"""

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule
from ninja import NinjaAPI

from openmnr.accounts.apiauth import RateLimited, authenticators
from openmnr.accounts.roles import roles_of

api = NinjaAPI(
    title="OpenMNR API",
    version="1",
    urls_namespace="api",
    docs_url=None,  # the interactive docs page loads assets from a CDN; the schema is enough
    openapi_url="/openapi.json",
    auth=authenticators(),
)


def _add_routers() -> None:
    for config in apps.get_app_configs():
        if config.name.startswith("openmnr.") and module_has_submodule(config.module, "api"):
            router = getattr(import_module(f"{config.name}.api"), "router", None)
            if router is not None:
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
