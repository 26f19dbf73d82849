"""Partner intake: POST /api/v1/reports with an API key and an Idempotency-Key header.

The answer (202 with the report's id) is sent only after the report is committed; the same
request again answers with the same id and files nothing new.
"""

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status
from ninja.errors import HttpError

from openmnr.accounts.apiauth import require

from . import intake
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


@router.get(
    "/reports/{report_id}", response=ReportStatus, summary="The coarse status of a report this key filed"
)
def report_status(request, report_id: int):
    key = _partner_key(request)
    try:
        return {"id": report_id, "status": intake.status_for_partner(report_id, key.owner)}
    except UnknownTrackingCode as exc:
        raise HttpError(404, str(exc)) from None
