"""Partner intake: POST /api/v1/reports with an API key and an Idempotency-Key header, or up to
100 reports at once in POST /api/v1/reports/batch, each with its own Idempotency-Key (batch.py).

The answer (202 with the report's id) is sent only after the report is committed; the same
request again answers with the same id and files nothing new.
"""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ValidationError, WrapValidator

from openmnr.accounts.apiauth import require

from . import batch, intake
from .errors import IdempotencyConflict, InvalidReport, UnknownTrackingCode
from .models import ContentKind, FoundWhere
from .states import PublicStatus

router = Router(tags=["hotline"])


class ReportIn(Schema):
    urls: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="The reported web addresses; may be empty only for the themes sexual_extortion and "
        "grooming, with a description.",
    )
    content_kind: ContentKind = Field(ContentKind.CSAM, description="The report's theme.")
    found_where: FoundWhere = Field(FoundWhere.OTHER)
    description: str = Field("", max_length=5000)
    reference: str = Field("", max_length=200, description="The partner's own id for the report.")
    platform: str = Field("", max_length=200, description="Where it happened (an app, a site).")
    username: str = Field("", max_length=200, description="The other person's user name there.")


class BatchReportIn(ReportIn):
    idempotency_key: str = Field(
        min_length=1, max_length=200, description="Unique to this report; reused when it is sent again."
    )


class _Unreadable:
    """A batch item that does not fit BatchReportIn: answered 400 on its own, the rest go on."""

    def __init__(self, error: ValidationError, raw: Any):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "report"
        self.detail = f"{where}: {first['msg']}"
        key = raw.get("idempotency_key") if isinstance(raw, dict) else None
        self.idempotency_key = key if isinstance(key, str) else ""


def _keep_unreadable(value, handler):
    try:
        return handler(value)
    except ValidationError as exc:
        return _Unreadable(exc, value)


class BatchIn(Schema):
    reports: list[Annotated[BatchReportIn, WrapValidator(_keep_unreadable)]] = Field(
        min_length=1, max_length=batch.MAX_REPORTS
    )


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


class Problem(Schema):
    detail: str


def _partner_key(request: HttpRequest):
    require(request, "hotline.submit_report")
    if request.api_key is None:
        raise HttpError(403, "Reports are filed with a partner hotline's API key.")
    return request.api_key


@router.post(
    "/reports",
    response={202: ReportAccepted, 400: Problem, 409: Problem},
    summary="File a report from a partner hotline (idempotent)",
)
def file_report(
    request, payload: ReportIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")
):
    key = _partner_key(request)
    if not idempotency_key:
        detail = "Send an Idempotency-Key header: a value unique to this report, reused on retries."
        return Status(400, {"detail": detail})
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
        return Status(400, {"detail": str(exc)})
    except IdempotencyConflict as exc:
        return Status(409, {"detail": str(exc)})
    return Status(202, {"id": submission.pk})


@router.post(
    "/reports/batch",
    response={200: BatchOut, 400: Problem},
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
        )
        items.append(batch.BatchItem(entry.idempotency_key, report))
    try:
        answers = batch.receive(items, api_key=key, request=request)
    except InvalidReport as exc:
        return Status(400, {"detail": str(exc)})
    results = [
        {"index": index, "idempotency_key": item.idempotency_key, **vars(answer)}
        for index, (item, answer) in enumerate(zip(items, answers, strict=True))
    ]
    return {"results": results}


@router.get(
    "/reports/{report_id}", response=ReportStatus, summary="The coarse status of a report this key filed"
)
def report_status(request, report_id: int):
    key = _partner_key(request)
    try:
        return {"id": report_id, "status": intake.status_for_partner(report_id, key.owner)}
    except UnknownTrackingCode as exc:
        raise HttpError(404, str(exc)) from None
