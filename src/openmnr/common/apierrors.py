"""The one error shape of the JSON API (/api/v1/), and the words it uses.

Every refusal the API sends, whichever app's operation refused and whatever refused it (the
authentication layer, the CSRF check of a staff session, a request that does not fit its schema,
the service itself), has one body::

    {"error": "invalid_input", "detail": "One sentence a person can act on.", "fields": {"urls.0": "must not be empty"}}

``error`` is a stable code a program may branch on (the table ``CODES`` holds the generic ones; an
operation adds its own, such as ``too_many_variants``); ``detail`` is for the person reading the
log; ``fields`` names each field at fault (a dotted path into the body, query or header) with what
is wrong with it, in plain words and never with the value sent: a hash list must not come back in
an error either. ``fields`` is ``{}`` when the fault is not a field's.

The trade-off: pydantic's own messages are precise but speak of its internals (``model_type``,
``function-wrap[_run_root_validator()]``); ``plain_fields`` turns the error types a schema can
raise into short sentences, and falls back to pydantic's message for any other type rather than
hide it. An app raises ``Refused`` (or returns ``refusal(...)``) and declares the statuses its
operation adds with ``errors(...)``; ``openmnr.web.api`` turns everything else into this shape and
documents, for every operation, the statuses that the shared layer itself can answer.
"""

from django.http import JsonResponse
from ninja import Field, Schema

#: The generic code for each status the shared layer answers.
CODES = {
    400: "invalid_input",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def code_for(status: int) -> str:
    """The generic code of a status, ``http_<status>`` for one without a name of its own."""
    return CODES.get(status, f"http_{status}")


class ApiError(Schema):
    """What every refusal of the API looks like."""

    error: str = Field(
        description="A stable code a program may branch on, e.g. invalid_input, not_authenticated."
    )
    detail: str = Field(description="What went wrong and what to do, in one or two sentences.")
    fields: dict[str, str] = Field(
        description="Each field at fault (a dotted path such as urls.0) with what is wrong with it; "
        "empty when the fault is not a field's."
    )


class Refused(Exception):
    """Raised by an operation (or the layer below it) to answer with the error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        fields: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status, self.code, self.detail, self.fields = status, code, detail, dict(fields or {})
        self.headers = dict(headers or {})  # such as Retry-After with a 429

    def body(self) -> dict:
        return body(self.code, self.detail, self.fields)


def body(code: str, detail: str, fields: dict[str, str] | None = None) -> dict:
    return {"error": code, "detail": detail, "fields": dict(fields or {})}


def errors(*statuses: int) -> dict[int, type[Schema]]:
    """The ``response`` entries for the error statuses an operation answers itself, e.g.
    ``response={200: Answer, **errors(409, 415)}``."""
    return dict.fromkeys(statuses, ApiError)


def json_response(status: int, code: str, detail: str, fields: dict[str, str] | None = None) -> JsonResponse:
    """The error shape outside ninja (middleware that refuses before a view runs)."""
    return JsonResponse(body(code, detail, fields), status=status)


# --- validation errors in plain words --------------------------------------------------------------

# The parts of a pydantic location that name no field: ninja's parameter groups and the names
# pydantic gives to validators and union members.
_NOT_A_FIELD = {"body", "query", "path", "header", "cookie", "form", "file", "payload"}


def _path(loc) -> str:
    parts = []
    for part in loc:
        if isinstance(part, int):
            parts.append(str(part))
        elif isinstance(part, str) and part not in _NOT_A_FIELD and not any(c in part for c in "[]()"):
            parts.append(part)
    return ".".join(parts) or "body"


def _plural(count, one: str) -> str:
    return f"{count} {one}" if count == 1 else f"{count} {one}s"


def plain_words(error: dict) -> str:
    """One pydantic error as a short sentence that never repeats the value sent."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field this operation accepts"
    if kind in ("string_type", "str_type"):
        return "must be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in ("list_type", "tuple_type"):
        return "must be a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a JSON object"
    if kind == "json_invalid":
        return "is not valid JSON"
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "must not be empty" if minimum == 1 else f"must have at least {_plural(minimum, 'character')}"
    if kind == "string_too_long":
        return f"must have at most {_plural(ctx.get('max_length'), 'character')}"
    if kind == "too_short":
        return f"must have at least {_plural(ctx.get('min_length'), 'item')}"
    if kind == "too_long":
        return f"must have at most {_plural(ctx.get('max_length'), 'item')}"
    if kind == "string_pattern_mismatch":
        return "is not in the expected format (see the API reference)"
    if kind in ("enum", "literal_error"):
        expected = ctx.get("expected")
        return f"must be one of {expected}" if expected else "is not one of the allowed values"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), None)
        words = {
            "greater_than_equal": "at least",
            "greater_than": "greater than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        return f"must be {words} {bound}"
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("msg", ""))
        return message.removeprefix("Value error, ").removeprefix("Assertion failed, ") or "is not valid"
    return str(error.get("msg") or "is not valid").rstrip(".")[:200]


def plain_fields(errors_: list[dict], limit: int = 20) -> dict[str, str]:
    """Pydantic's errors as ``{field path: plain words}``, the first error of each field."""
    fields: dict[str, str] = {}
    for error in errors_:
        fields.setdefault(_path(error.get("loc", ())), plain_words(error))
        if len(fields) >= limit:
            break
    return fields


def invalid_input(errors_: list[dict]) -> Refused:
    """The refusal of a request that does not fit its schema."""
    fields = plain_fields(errors_)
    listed = "; ".join(f"{name}: {words}" for name, words in list(fields.items())[:5])
    return Refused(
        400, "invalid_input", f"The request does not fit this operation's schema ({listed}).", fields
    )
