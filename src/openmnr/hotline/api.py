"""Partner intake: POST /api/v1/reports with an API key and an Idempotency-Key header.

The answer (202 with the report's id) is sent only after the report is committed; the same
request again answers with the same id and files nothing new.
"""

from typing import Annotated

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status
from pydantic import ConfigDict

from openmnr.accounts.apiauth import require
from openmnr.common.apierrors import Refused, errors

from . import intake
from .errors import IdempotencyConflict, InvalidReport, UnknownTrackingCode
from .models import ContentKind, FoundWhere
from .states import PublicStatus

router = Router(tags=["hotline"])


# A web address as the API takes it: http or https, a host name of up to six labels (an
# internationalised one in its xn-- form; at most 253 characters), an optional port, then any
# printable ASCII. The same pattern is stated in the schema
# and checked by the server (with Python's regular expressions on both sides), and every address
# it allows is one the hotline's canonicalisation accepts, so a request the document allows is
# never refused for an address's form.
URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?\.){1,5}[A-Za-z]{2,48}"
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
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    urls: list[WebAddress] = Field(
        min_length=1,
        max_length=settings.HOTLINE_MAX_URLS_PER_REPORT,
        description="The reported web addresses (at most OPENMNR_HOTLINE_MAX_URLS_PER_REPORT, 20 by default).",
    )
    content_kind: ContentKind = Field(ContentKind.CSAM, description="What the reporter says it shows.")
    found_where: FoundWhere = Field(FoundWhere.OTHER)
    description: str = Field("", max_length=5000)
    reference: str = Field("", max_length=200, description="The partner's own id for the report.")


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
