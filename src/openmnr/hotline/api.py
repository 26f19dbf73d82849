"""Partner intake: POST /api/v1/reports with an API key and an Idempotency-Key header, or up to
100 reports at once in POST /api/v1/reports/batch, each with its own Idempotency-Key (batch.py).

The answer (202 with the report's id) is sent only after the report is committed; the same
request again answers with the same id and files nothing new.
"""

from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status
from pydantic import ConfigDict, ValidationError, WithJsonSchema, WrapValidator

from openmnr.accounts.apiauth import require
from openmnr.common.apierrors import Refused, errors, plain_fields

from . import api_classification, batch, intake
from .errors import IdempotencyConflict, InvalidReport, UnknownTrackingCode
from .models import NO_URL_THEMES, ContentKind, FoundWhere
from .states import PublicStatus

router = Router(tags=["hotline"])
router.add_router("", api_classification.router)  # an item's classification, a case's site


# A web address as the API takes it: http or https, an IPv4 address or a host name of up to six labels (an
# internationalised one in its xn-- form; at most 253 characters), an optional port, then any
# printable ASCII. The same pattern is stated in the schema
# and checked by the server (with Python's regular expressions on both sides), and every address
# it allows is one the hotline's canonicalisation accepts, so a request the document allows is
# never refused for an address's form.
URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?\.){1,5}[A-Za-z]{2,48}"
    r"|(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})"
    r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
    r"(?:[/?#][!-~]{0,4000})?$"
)
WebAddress = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        pattern=URL_PATTERN,
        description="An http or https address; a host with non-ASCII letters in its xn-- (IDNA) form.",
    ),
]


class ReportIn(Schema):
    # At least one address, except for a theme that may come without one (sexual extortion,
    # grooming), which then needs a description: stated in the document as the server checks it, so
    # a request the document allows is never refused for it.
    model_config = ConfigDict(
        extra="forbid",
        regex_engine="python-re",
        json_schema_extra={
            "anyOf": [
                {"required": ["urls"], "properties": {"urls": {"minItems": 1}}},
                {
                    "required": ["content_kind", "description"],
                    "properties": {
                        "content_kind": {"enum": sorted(NO_URL_THEMES)},
                        "description": {"pattern": r"\S"},
                    },
                },
            ]
        },
    )

    urls: list[WebAddress] = Field(
        default_factory=list,
        max_length=settings.HOTLINE_MAX_URLS_PER_REPORT,
        description="The reported web addresses (at most OPENMNR_HOTLINE_MAX_URLS_PER_REPORT, 20 by "
        "default); may be empty only for the themes sexual_extortion and grooming, with a description.",
    )
    content_kind: ContentKind = Field(ContentKind.CSAM, description="The report's theme.")
    found_where: FoundWhere = Field(FoundWhere.OTHER)
    description: str = Field("", max_length=5000)
    reference: str = Field("", max_length=200, description="The partner's own id for the report.")
    platform: str = Field("", max_length=200, description="Where it happened (an app, a site).")
    username: str = Field("", max_length=200, description="The other person's user name there.")


class BatchReportIn(ReportIn):
    idempotency_key: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[ -~]+$",
        description="Unique to this report (printable ASCII); reused when it is sent again.",
    )


class _Unreadable:
    """A batch item that does not fit BatchReportIn: answered 400 on its own, the rest go on."""

    def __init__(self, error: ValidationError, raw: Any):
        fields = plain_fields(error.errors())
        self.detail = "; ".join(f"{where or 'report'}: {words}" for where, words in fields.items())
        key = raw.get("idempotency_key") if isinstance(raw, dict) else None
        self.idempotency_key = key if isinstance(key, str) else ""


def _keep_unreadable(value, handler):
    if not isinstance(value, dict):
        return handler(value)  # not even an object: the whole batch is refused
    try:
        return handler(value)
    except ValidationError as exc:
        return _Unreadable(exc, value)


# Each item is documented as any object: an item that does not fit BatchReportIn is answered 400
# on its own in the batch's 200, so the document may not promise that the whole batch is refused.
_BATCH_ITEM_SCHEMA = {
    "type": "object",
    "description": "A report as in POST /api/v1/reports, with its own idempotency_key. An item that "
    "does not fit gets its own answer with status 400; the others are filed.",
}


class BatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reports: list[
        Annotated[BatchReportIn, WrapValidator(_keep_unreadable), WithJsonSchema(_BATCH_ITEM_SCHEMA)]
    ] = Field(min_length=1, max_length=batch.MAX_REPORTS)


class BatchAnswer(Schema):
    index: int = Field(description="The report's place in the batch, from 0.")
    idempotency_key: str
    status: int = Field(
        description="202 filed now, 200 filed before (a retry), 400 refused as sent, "
        "409 Idempotency-Key used for another report, 503 not filed now (send it again)."
    )
    id: int | None = None
    detail: str = ""


class BatchOut(Schema):
    results: list[BatchAnswer]


class ReportAccepted(Schema):
    id: int


class ReportStatus(Schema):
    id: int
    status: PublicStatus


def _partner_key(request: HttpRequest):
    require(request, "hotline.submit_report")
    if request.api_key is None:
        raise Refused(403, "forbidden", "Reports are filed with a partner hotline's API key.")
    return request.api_key


@router.post(
    "/reports",
    response={202: ReportAccepted, **errors(400, 409)},
    summary="File a report from a partner hotline (idempotent)",
)
def file_report(
    request,
    payload: ReportIn,
    idempotency_key: str = Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[ -~]+$",
        description="A value unique to this report (printable ASCII), sent again unchanged on a retry.",
    ),
):
    key = _partner_key(request)
    report = intake.ReportInput(
        urls=payload.urls,
        content_kind=payload.content_kind,
        found_where=payload.found_where,
        description=payload.description,
        partner_reference=payload.reference,
        platform=payload.platform,
        username=payload.username,
    )
    try:
        submission, _created = intake.receive_partner(
            report, api_key=key, idempotency_key=idempotency_key, request=request
        )
    except InvalidReport as exc:
        return Status(400, Refused(400, "invalid_report", str(exc)).body())
    except IdempotencyConflict as exc:
        return Status(409, Refused(409, "idempotency_conflict", str(exc)).body())
    return Status(202, {"id": submission.pk})


@router.post(
    "/reports/batch",
    response={200: BatchOut, **errors(400)},
    summary="File up to 100 reports from a partner hotline, each idempotent on its own",
)
def file_batch(request, payload: BatchIn):
    key = _partner_key(request)
    items = []
    for entry in payload.reports:
        if isinstance(entry, _Unreadable):
            items.append(batch.BatchItem(entry.idempotency_key, None, invalid=entry.detail))
            continue
        report = intake.ReportInput(
            urls=entry.urls,
            content_kind=entry.content_kind,
            found_where=entry.found_where,
            description=entry.description,
            partner_reference=entry.reference,
            platform=entry.platform,
            username=entry.username,
        )
        items.append(batch.BatchItem(entry.idempotency_key, report))
    try:
        answers = batch.receive(items, api_key=key, request=request)
    except InvalidReport as exc:
        return Status(400, Refused(400, "invalid_report", str(exc)).body())
    results = [
        {"index": index, "idempotency_key": item.idempotency_key, **vars(answer)}
        for index, (item, answer) in enumerate(zip(items, answers, strict=True))
    ]
    return {"results": results}


@router.get(
    "/reports/{report_id}",
    response={200: ReportStatus, **errors(404)},
    summary="The coarse status of a report this key filed",
)
def report_status(request, report_id: int):
    key = _partner_key(request)
    try:
        return {"id": report_id, "status": intake.status_for_partner(report_id, key.owner)}
    except UnknownTrackingCode as exc:
        raise Refused(404, "not_found", str(exc)) from None
