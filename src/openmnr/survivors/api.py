"""POST /api/v1/survivors/outcomes: what a platform did with content that matched a survivor's hash.

An industry member's key (permission survivors.report_outcome) sends, for each upload it reviewed
after /match answered ``survivor_reported``, the signals it matched with and the outcome:
``removed`` or ``kept`` (reviewed and kept). Optionally its own ``reference`` for the upload, so
that a retried call is counted once. The answer says per item whether it matched a self-reported
picture of an open case (``matched``) and whether this report was counted (``counted``: false for a
repeat of the same reference). Nothing about the case, the person or the entry is returned.
"""

from typing import Literal

from django.core.exceptions import RequestDataTooBig
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, ValidationError, model_validator

from openmnr.accounts.apiauth import require
from openmnr.audit import services as audit
from openmnr.common.apierrors import Refused, errors, invalid_input

from . import outcomes
from .errors import SurvivorError

router = Router(tags=["survivors"])


def _hex(digits: int) -> str:
    """Hex digits with surrounding blanks (trimmed, any case), stated in the schema and checked."""
    return rf"^[ \t\r\n]*[0-9a-fA-F]{{{digits}}}[ \t\r\n]*$"


_ONE_SIGNAL = [
    {"required": [name], "properties": {name: {"type": "string"}}} for name in ("pdq", "md5", "sha256")
]


class OutcomeItem(Schema):
    model_config = ConfigDict(
        extra="forbid", regex_engine="python-re", json_schema_extra={"anyOf": _ONE_SIGNAL}
    )

    pdq: str | None = Field(
        None, pattern=_hex(64), description="PDQ hash the upload was matched with, 64 hexadecimal digits."
    )
    md5: str | None = Field(None, pattern=_hex(32), description="MD5 of the upload, 32 hexadecimal digits.")
    sha256: str | None = Field(
        None, pattern=_hex(64), description="SHA-256 of the upload, 64 hexadecimal digits."
    )
    outcome: Literal["removed", "kept"] = Field(
        description="removed, or kept (reviewed, and found not to break the platform's rules)."
    )
    reference: str = Field("", max_length=200, description="The platform's own reference for the upload.")

    @model_validator(mode="after")
    def _at_least_one_signal(self):
        if self.pdq is None and self.md5 is None and self.sha256 is None:
            raise ValueError("give at least one signal (pdq, md5 or sha256)")
        return self


class OutcomeReport(Schema):
    model_config = ConfigDict(extra="forbid")

    items: list[OutcomeItem] = Field(..., min_length=1, max_length=100)


class OutcomeResult(Schema):
    matched: bool = Field(description="The signals match a self-reported picture of an open case.")
    counted: bool = Field(description="This report was counted (false for a repeated reference).")


class OutcomeAnswer(Schema):
    results: list[OutcomeResult]


def _inline(schema: dict) -> dict:
    """The JSON schema with its $defs put in place (a router cannot add OpenAPI components)."""
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)


BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(OutcomeReport.model_json_schema())}},
    }
}


def _parse(request) -> list[dict]:
    """The report's items; a malformed body is a 400 with what is wrong (never a value)."""
    if (request.content_type or "") != "application/json":
        raise Refused(415, "unsupported_media_type", "send application/json")
    try:
        parsed = OutcomeReport.model_validate_json(request.body)
    except RequestDataTooBig:
        raise Refused(413, "too_large", "the body is too large; send at most 100 items a call") from None
    except ValidationError as error:
        raise invalid_input(error.errors()) from None
    return [item.model_dump() for item in parsed.items]


@router.post(
    "/survivors/outcomes",
    response={200: OutcomeAnswer, **errors(400, 413, 415)},
    summary="Report what was done with content that matched a self-reported hash",
    openapi_extra=BODY,
)
def report_outcomes(request):
    require(request, "survivors.report_outcome")
    try:
        answers = outcomes.report(_parse(request), user=request.user, request=request)
    except (SurvivorError, Refused) as error:
        refused = error if isinstance(error, Refused) else Refused(400, error.code, str(error))
        audit.record(
            "survivors.outcome", request=request, outcome=audit.FAILURE, detail={"error": refused.code}
        )
        return Status(refused.status, refused.body())
    return OutcomeAnswer(results=[OutcomeResult(matched=a.matched, counted=a.counted) for a in answers])
