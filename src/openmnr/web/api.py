"""The JSON API at /api/v1/ (django-ninja): one NinjaAPI that mounts every app's router.

An installed app with an ``api`` module exposing ``router`` is mounted, in INSTALLED_APPS order:
there is no list to edit when an app is added. Authentication and permission checks live below the
apps, in ``openmnr.accounts.apiauth``; the error shape in ``openmnr.common.apierrors``.

What every operation gets from this layer, whichever app declared it (docs/api.md, "Adding an
operation"):

- one error shape for every refusal: the exception handlers below turn an authentication failure
  (401), a refused permission or CSRF check (403), a request that does not fit the schema (400,
  with each field in plain words), an unknown object (404), a rate limit (429) and any ``Refused``
  an app raises into ``{"error", "detail", "fields"}``; what answers outside an operation (ninja's
  405, Django's 404 and 500, the body-size middleware) is reshaped by
  ``openmnr.web.middleware.ApiErrorShapeMiddleware``;
- an OpenAPI document that tells the truth: ``OpenMNRApi.get_openapi_schema`` adds to every
  operation the statuses this layer can answer for it (401, 403 and 429 when it needs a caller;
  400 when it takes parameters or a body; 413 when it takes a body; 404 when its path has a
  parameter), each with the error schema, unless the operation documented that status itself;
- the reference page at /api/v1/docs: Swagger UI from the static files django-ninja ships (served
  by this platform, nothing from another host, no inline script), with the online validator off.
"""

from importlib import import_module

from django.apps import apps
from django.http import Http404
from django.utils.module_loading import module_has_submodule
from ninja import Field, NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from openmnr.accounts.apiauth import RateLimited, authenticators
from openmnr.accounts.roles import roles_of
from openmnr.common import apierrors
from openmnr.common.apierrors import CODES, ApiError, Refused

ERROR_REF = "#/components/schemas/ApiError"


class OpenMNRApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        return document_errors(schema)


def document_errors(schema: dict) -> dict:
    """Add the shared layer's statuses to every operation of an OpenAPI document (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ApiError"] = ApiError.model_json_schema()
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = set()
            parameters = operation.get("parameters") or []
            if operation.get("security"):
                statuses |= {401, 403, 429}
            if parameters or "requestBody" in operation:
                statuses.add(400)
            if "requestBody" in operation:
                statuses.add(413)
            if "{" in path:
                statuses.add(404)
            # ninja keys statuses by int; the document's keys are strings: one key per status.
            responses = operation["responses"] = {str(k): v for k, v in operation["responses"].items()}
            for status in sorted(statuses):
                responses.setdefault(
                    str(status),
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                    },
                )
    return schema


_DESCRIPTIONS = {
    400: "The request does not fit the schema (invalid_input): `fields` names each field at fault.",
    401: "No valid API key or signed-in staff session (not_authenticated).",
    403: "The caller may not do this (forbidden), or a staff session's CSRF token is missing (csrf_failed).",
    404: "No such object among those the caller may see (not_found).",
    413: "The body is larger than the server accepts (too_large).",
    429: "Rate limit reached (rate_limited); retry after the Retry-After header's seconds.",
}


api = OpenMNRApi(
    title="OpenMNR API",
    version="1",
    description=(
        "The JSON API of an OpenMNR platform. Authenticate with an API key "
        "(`Authorization: Bearer omnr_...` or `X-API-Key: omnr_...`). Every refusal has the body "
        '`{"error": code, "detail": text, "fields": {field: problem}}`, whatever refused it: each '
        "operation lists its own statuses; a path no operation has is 404 `not_found`, a method a path "
        "does not take 405 `method_not_allowed`, a fault of the platform 500 `server_error`, an outage "
        "503 `unavailable`. Worked examples: docs/api.md."
    ),
    urls_namespace="api",
    docs_url="/docs",
    docs=Swagger(settings={"validatorUrl": None, "tryItOutEnabled": False, "persistAuthorization": False}),
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


def _answer(request, refused: Refused, headers: dict | None = None):
    response = api.create_response(request, refused.body(), status=refused.status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


@api.exception_handler(Refused)
def _refused(request, exc: Refused):
    return _answer(request, exc, exc.headers)


@api.exception_handler(AuthenticationError)
def _not_authenticated(request, exc):
    refused = Refused(
        401,
        CODES[401],
        "Send a valid API key (Authorization: Bearer omnr_... or X-API-Key: omnr_...); "
        "this one is missing, unknown, expired or revoked.",
    )
    return _answer(request, refused, {"WWW-Authenticate": 'Bearer realm="openmnr"'})


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    refused = Refused(429, CODES[429], "Rate limit reached; retry in a minute.")
    return _answer(request, refused, {"Retry-After": "60"})


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    return _answer(request, apierrors.invalid_input(exc.errors))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _answer(request, Refused(404, CODES[404], "No such object among those you may see."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    status = exc.status_code
    return _answer(request, Refused(status, CODES.get(status, f"http_{status}"), str(exc)))


class WhoAmI(Schema):
    kind: str = Field(description="api_key, or staff for a signed-in staff session.")
    name: str
    roles: list[str]
    scopes: list[str] | None = None


@api.get("/whoami", response=WhoAmI, summary="Who the API takes the caller for", tags=["accounts"])
def whoami(request):
    key = getattr(request, "api_key", None)
    return {
        "kind": "api_key" if key else "staff",
        "name": key.name if key else request.user.get_username(),
        "roles": roles_of(request.user),
        "scopes": key.scopes if key else None,
    }
