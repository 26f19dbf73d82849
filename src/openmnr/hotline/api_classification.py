"""An item's classification and its case's site through the API, for analysts' own tools.

    GET /api/v1/hotline/items/{item_id}/classification      read (any caller that works the queue)
    PUT /api/v1/hotline/items/{item_id}/classification      write (the analyst holding the case)
    GET /api/v1/hotline/cases/{case_id}/site                 read
    PUT /api/v1/hotline/cases/{case_id}/site                 write (the analyst holding the case)

There is no second path: a write calls the very service functions the classify and site forms
call (`assess.classify_item`, `assess.describe_site`), so the rules (baseline needs a real child
in a baseline age group, known material keeps its bank's classification, only a case in the queue
changes), the row lock, the audit event and the state checks are the same whichever way the
analyst works. Only callers holding ``hotline.work_queue`` (analysts and senior analysts, through a
key with that scope or a staff session) get in: an industry, partner, licensee or law-enforcement
key is refused with 403 before anything is looked up. The per-object rule is the form's: only the
analyst who claimed the case writes (403 ``not_case_holder`` otherwise), and a case no longer in
the queue answers 409. The object is looked up before the body is judged, so that an unknown id
is 404 whatever the body says; a body that breaks a rule is 400 ``invalid_classification`` with
the rule in words.
"""

from datetime import datetime

from ninja import Field, Router, Schema
from pydantic import ConfigDict

from openmnr.accounts.apiauth import require
from openmnr.common.apierrors import Refused, errors

from . import assess
from .classification import Assessment, Classification, Site
from .errors import CaseNotFound, ClaimError, InvalidClassification, NotCaseHolder

router = Router(tags=["hotline"])


class ItemClassificationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    assessment: Assessment
    category: str = Field(
        "", max_length=64, description="A category of the national scheme; illegal material only."
    )
    age_group: str = Field("", max_length=32, description="An apparent age group; illegal material only.")
    gender: str = Field("", max_length=32, description="A gender of the vocabulary; empty: not recorded.")
    content_type: str = Field("", max_length=32, description="image, video, link, ...; empty: not recorded.")
    flags: list[str] | None = Field(
        None,
        max_length=20,
        description="Vocabulary flags (virtual, ai_generated, self_generated, child_modelling, "
        "live_streamed); null: not recorded, []: none apply. AI-generated brings virtual.",
    )


class ItemClassificationOut(Schema):
    item: int
    case: int
    assessment: str = Field(description='"" while the item is not classified.')
    category: str
    age_group: str
    gender: str
    content_type: str
    flags: list[str] | None
    auto_assessed: bool = Field(description="Known material: the bank's classification, not to be changed.")
    needs_review: bool
    assessed_at: datetime | None


class SiteIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site_type: str = Field(
        "", max_length=32, description="A site type of the vocabulary; empty: not recorded."
    )
    commerciality: str = Field("", max_length=32, description="commercial, non_commercial, ...")
    payment_methods: list[str] | None = Field(None, max_length=20, description="null: not recorded.")


class SiteOut(Schema):
    case: int
    site_type: str
    commerciality: str
    payment_methods: list[str] | None


def _refusal(exc: Exception) -> Refused:
    """The service's typed errors as the API's answers."""
    if isinstance(exc, CaseNotFound):
        return Refused(404, "not_found", str(exc))
    if isinstance(exc, NotCaseHolder):
        return Refused(403, "not_case_holder", str(exc))
    if isinstance(exc, ClaimError):
        return Refused(409, "not_in_queue", str(exc))
    return Refused(400, "invalid_classification", str(exc))


def _item_out(item) -> dict:
    return {
        "item": item.pk,
        "case": item.case_id,
        "assessment": item.assessment,
        "category": item.category,
        "age_group": item.age_group,
        "gender": item.gender,
        "content_type": item.content_type,
        "flags": item.flags,
        "auto_assessed": item.auto_assessed,
        "needs_review": item.needs_review,
        "assessed_at": item.assessed_at,
    }


def _site_out(case) -> dict:
    return {
        "case": case.pk,
        "site_type": case.site_type,
        "commerciality": case.commerciality,
        "payment_methods": case.payment_methods,
    }


_SERVICE_ERRORS = (CaseNotFound, NotCaseHolder, ClaimError, InvalidClassification)


@router.get(
    "/hotline/items/{item_id}/classification",
    response={200: ItemClassificationOut},
    summary="An item's classification (analysts)",
)
def read_item(request, item_id: int):
    require(request, "hotline.work_queue")
    try:
        return _item_out(assess.find_item(item_id))
    except CaseNotFound as exc:
        raise _refusal(exc) from None


@router.put(
    "/hotline/items/{item_id}/classification",
    response={200: ItemClassificationOut, **errors(400, 403, 404, 409)},
    summary="Classify an item of the case the caller holds (as the classify form does)",
)
def write_item(request, item_id: int, payload: ItemClassificationIn):
    require(request, "hotline.work_queue")
    classification = Classification(
        assessment=payload.assessment,
        category=payload.category,
        age_group=payload.age_group,
        gender=payload.gender,
        content_type=payload.content_type,
        flags=tuple(payload.flags) if payload.flags is not None else None,
    )
    try:
        item = assess.classify_item(item_id, request.user, classification, request=request)
    except _SERVICE_ERRORS as exc:
        raise _refusal(exc) from None
    return _item_out(item)


@router.get(
    "/hotline/cases/{case_id}/site",
    response={200: SiteOut},
    summary="What a case's site is: site type, commerciality, payment methods (analysts)",
)
def read_site(request, case_id: int):
    require(request, "hotline.work_queue")
    try:
        return _site_out(assess.find_case(case_id))
    except CaseNotFound as exc:
        raise _refusal(exc) from None


@router.put(
    "/hotline/cases/{case_id}/site",
    response={200: SiteOut, **errors(400, 403, 404, 409)},
    summary="Describe the site of the case the caller holds (as the site form does)",
)
def write_site(request, case_id: int, payload: SiteIn):
    require(request, "hotline.work_queue")
    site = Site(
        site_type=payload.site_type,
        commerciality=payload.commerciality,
        payment_methods=tuple(payload.payment_methods) if payload.payment_methods is not None else None,
    )
    try:
        case = assess.describe_site(case_id, request.user, site, request=request)
    except _SERVICE_ERRORS as exc:
        raise _refusal(exc) from None
    return _site_out(case)
