"""ICCAM's records read into checked Python values, and the bodies we send, through the vocabulary.

Everything ICCAM sends is checked before anything is stored: a field of the wrong type is an
`IccamDataError`, and an id the vocabulary does not know (an assessment, age group, site type...) an
`UnknownIccamValue`. Both name the record, and the exchange treats them as an error for that one item
or report; nothing is guessed and nothing half-read is kept. The one exception is the type of an
action a partner recorded: we only observe those (to know whether an item was actioned, or when a
partner removed what we exported), so an action type we do not know is kept as ``code=None``.

Outgoing bodies take our terms and translate them with the vocabulary file; a term ICCAM has no id
for (doubtful, not assessable) cannot be sent and raises `NotExchangeable` before any call is made.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openmnr.core.vocabulary import UnknownExternalIdError, Vocabulary, vocabulary

from . import ExchangeError
from .iccam import iccam_date


class IccamDataError(ExchangeError):
    """An ICCAM record is not in the documented shape (a field missing or of the wrong type)."""


class UnknownIccamValue(IccamDataError):
    """An ICCAM record carries an id the vocabulary file does not know."""


class NotExchangeable(ExchangeError):
    """Our record holds a term ICCAM has no id for, so it cannot be sent."""


@dataclass(frozen=True)
class QueueEntry:
    report_id: int
    content_id: int


@dataclass(frozen=True)
class Classification:
    """An item's classification in our terms. ``flags=None``: not recorded (nothing is sent for
    them), as opposed to recorded and none set."""

    assessment: str
    age_group: str = ""
    gender: str = ""
    flags: frozenset[str] | None = None
    analyst: str = ""


@dataclass(frozen=True)
class IccamReport:
    report_id: int
    reporting_hotline: str
    analyst: str
    memo: str
    site_type: str  # vocabulary code, "" when ICCAM has none
    commerciality: str
    payment_methods: tuple[str, ...]
    content_ids: tuple[int, ...]


@dataclass(frozen=True)
class IccamAction:
    code: str | None  # vocabulary code; None for an action type the vocabulary does not know
    type_id: int | None
    at: datetime | None
    analyst: str


@dataclass(frozen=True)
class IccamContent:
    content_id: int
    url: str
    is_source_url: bool
    memo: str
    hosting_country: str
    hosting_ip: str
    assigned_country: str
    assignment_date: datetime | None
    assessment: Classification | None  # the last one, as INHOPE advises
    actions: tuple[IccamAction, ...]


# --- reading --------------------------------------------------------------------------------------


def queue_entries(data: Any) -> list[QueueEntry]:
    """The (report, content) pairs of a queue page; `IccamDataError` if the page is malformed."""
    if not isinstance(data, list):
        raise IccamDataError("the queue is not a list")
    entries = []
    for index, item in enumerate(data):
        where = f"queue entry {index + 1}"
        entries.append(QueueEntry(_id(item, "reportId", where), _id(item, "contentId", where)))
    return entries


def read_report(report_id: int, data: Any, vocab: Vocabulary | None = None) -> IccamReport:
    """Report `report_id` as ICCAM answered GET rest/Reports/{id}."""
    vocab = vocab or vocabulary()
    where = f"report {report_id}"
    if not isinstance(data, dict):
        raise IccamDataError(f"{where} is not an object")
    contents = data.get("reportContents")
    if not isinstance(contents, list):
        raise IccamDataError(f"{where}: reportContents is missing")
    content_ids = tuple(_id(c, "contentId", f"{where} content {i + 1}") for i, c in enumerate(contents))
    if not content_ids:
        raise IccamDataError(f"{where} has no content")
    payment = data.get("sourceUrlPaymentMethods") or []
    if not isinstance(payment, list):
        raise IccamDataError(f"{where}: sourceUrlPaymentMethods is not a list")
    return IccamReport(
        report_id=report_id,
        reporting_hotline=_text(
            data.get("reportingHotlineId", data.get("reportingHotline")), where, "reportingHotlineId"
        ),
        analyst=_text(data.get("reportingAnalystName"), where, "reportingAnalystName"),
        memo=_text(data.get("memo"), where, "memo"),
        site_type=_term(vocab, "site_type", data.get("sourceUrlSiteType"), where),
        commerciality=_term(vocab, "commerciality", data.get("sourceUrlCommerciality"), where),
        payment_methods=tuple(_term(vocab, "payment_method", value, where) for value in payment),
        content_ids=content_ids,
    )


def read_content(data: Any, vocab: Vocabulary | None = None) -> IccamContent:
    vocab = vocab or vocabulary()
    if not isinstance(data, dict):
        raise IccamDataError("the content item is not an object")
    content_id = _id(data, "contentId", "the content item")
    where = f"content {content_id}"
    url = data.get("url")
    if not isinstance(url, dict) or not isinstance(url.get("urlString"), str) or not url["urlString"].strip():
        raise IccamDataError(f"{where}: url.urlString is missing")
    assessments = data.get("assessments") or []
    actions = data.get("actions") or []
    if not isinstance(assessments, list) or not isinstance(actions, list):
        raise IccamDataError(f"{where}: assessments and actions must be lists")
    return IccamContent(
        content_id=content_id,
        url=url["urlString"].strip(),
        is_source_url=bool(url.get("isSourceUrl")),
        memo=_text(data.get("memo"), where, "memo"),
        hosting_country=_text(url.get("hostingCountryCode"), where, "hostingCountryCode").upper(),
        hosting_ip=_text(url.get("hostingIpAddress"), where, "hostingIpAddress"),
        assigned_country=_text(data.get("assignedCountryCode"), where, "assignedCountryCode").upper(),
        assignment_date=_date(data.get("countryAssignmentDate"), where),
        assessment=read_assessment(assessments[-1], vocab, where) if assessments else None,
        actions=tuple(_action(item, vocab, f"{where} action {i + 1}") for i, item in enumerate(actions)),
    )


def read_content_date(data: Any) -> datetime | None:
    """Only the assignment date of a content item (the import pages by it)."""
    if not isinstance(data, dict):
        raise IccamDataError("the content item is not an object")
    return _date(data.get("countryAssignmentDate"), "the content item")


def read_assessment(data: Any, vocab: Vocabulary, where: str) -> Classification:
    if not isinstance(data, dict):
        raise IccamDataError(f"{where}: an assessment is not an object")
    assessment = _term(vocab, "assessment", data.get("classification"), where, required=True)
    try:
        flags = vocab.flags_from_iccam(data)
    except UnknownExternalIdError as exc:
        raise UnknownIccamValue(f"{where}: {exc}") from None
    return Classification(
        assessment=assessment,
        age_group=_term(vocab, "age_group", data.get("ageCategorization"), where),
        gender=_term(vocab, "gender", data.get("genderCategorization"), where),
        flags=flags,
        analyst=_text(data.get("assessingAnalystName"), where, "assessingAnalystName"),
    )


def _action(data: Any, vocab: Vocabulary, where: str) -> IccamAction:
    if not isinstance(data, dict):
        raise IccamDataError(f"{where}: not an object")
    type_id = data.get("actionType")
    code = None
    if isinstance(type_id, int) and not isinstance(type_id, bool):
        try:
            code = vocab.list("action").from_iccam(type_id)
        except UnknownExternalIdError:
            code = None
    else:
        type_id = None
    return IccamAction(
        code=code,
        type_id=type_id,
        at=_date(data.get("actionDate"), where),
        analyst=_text(data.get("analystName", data.get("actioningAnalystName")), where, "analystName"),
    )


def _id(data: Any, name: str, where: str) -> int:
    if not isinstance(data, dict):
        raise IccamDataError(f"{where}: not an object")
    value = data.get(name)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise IccamDataError(f"{where}: {name} is {'missing' if value is None else f'not an id: {value!r}'}")


def _text(value: Any, where: str, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int | str) and not isinstance(value, bool):
        return str(value).strip()
    raise IccamDataError(f"{where}: {name} is not text")


def _term(vocab: Vocabulary, list_name: str, value: Any, where: str, *, required: bool = False) -> str:
    if value is None:
        if required:
            raise IccamDataError(f"{where}: {vocab.list(list_name).iccam_v3_field} is missing")
        return ""
    try:
        return vocab.list(list_name).from_iccam(value)
    except UnknownExternalIdError as exc:
        raise UnknownIccamValue(f"{where}: {exc}") from None


def _date(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise IccamDataError(f"{where}: a date is not text")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise IccamDataError(f"{where}: {value!r} is not a date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hosting:
    """Where a URL is hosted, as the takedown trace found it."""

    country: str
    ip: str = ""
    isp: str = ""


@dataclass(frozen=True)
class ExportItem:
    url: str
    is_source_url: bool
    content_type: str  # vocabulary code
    classification: Classification | None  # None: not illegal, sent without assessment
    hosting: Hosting | None
    reference: str


def assessment_body(classification: Classification, analyst: str, vocab: Vocabulary | None = None) -> dict:
    """The body of PUT rest/Content/{id}/assessment (and of each URL's assessment in a new report)."""
    vocab = vocab or vocabulary()
    classification_id = vocab.assessment.to_iccam(classification.assessment)
    if classification_id is None:
        raise NotExchangeable(
            f"ICCAM has no classification for {classification.assessment!r}: "
            f"{vocab.assessment.term(classification.assessment).note}"
        )
    body = {
        "assessingAnalystName": analyst,
        "classification": classification_id,
        "ageCategorization": vocab.age_group.to_iccam(classification.age_group or "unknown"),
        "genderCategorization": vocab.gender.to_iccam(classification.gender or "not_determined"),
    }
    if classification.flags is not None:
        body.update(vocab.flags_to_iccam(classification.flags))
    return body


def report_body(
    *,
    reference: str,
    received_at: datetime,
    analyst: str,
    items: Iterable[ExportItem],
    memo: str = "",
    site_type: str = "",
    commerciality: str = "not_determined",
    payment_methods: Iterable[str] = ("not_determined",),
    vocab: Vocabulary | None = None,
) -> dict:
    """The body of POST rest/reports: one source URL and its media, each with its assessment."""
    vocab = vocab or vocabulary()
    urls = []
    for item in items:
        url = {
            "urlString": item.url,
            "hotlineReference": item.reference,
            "isSourceUrl": item.is_source_url,
            "memo": "",
            "contentType": _required_id(vocab, "content_type", item.content_type),
            "actions": [],
        }
        if item.hosting is not None:
            url.update(
                hostingCountryCode=item.hosting.country,
                hostingIpAddress=item.hosting.ip or None,
                hostingIsp=item.hosting.isp or None,
                hostingOrganization={"organizationName": item.hosting.isp} if item.hosting.isp else None,
            )
        if item.classification is not None:
            url["assessment"] = assessment_body(item.classification, analyst, vocab)
        urls.append(url)
    if not any(url["isSourceUrl"] for url in urls):
        raise NotExchangeable("a report needs its source URL")
    body = {
        "reportingAnalystName": analyst,
        "hotlineReceivedDate": iccam_date(received_at),
        "hotlineReference": reference,
        "memo": memo,
        "urls": urls,
        "sourceUrlCommerciality": _required_id(vocab, "commerciality", commerciality),
        "sourceUrlPaymentMethods": [_required_id(vocab, "payment_method", p) for p in payment_methods],
    }
    site_type_id = vocab.site_type.to_iccam(site_type) if site_type else None
    if site_type_id is not None:
        body["sourceUrlSiteType"] = site_type_id
    return body


def action_body(
    action: str, at: datetime, analyst: str, *, reason: str = "", reason_text: str = "", vocab=None
) -> dict:
    """The body of POST rest/Content/{id}/actions. Unavailable and not illegal carry a reason."""
    vocab = vocab or vocabulary()
    term = vocab.action.term(action)
    if term.iccam_v3 is None:
        raise NotExchangeable(f"ICCAM takes {action!r} otherwise than as an action: {term.note}")
    body = {"actionType": term.iccam_v3, "actioningAnalystName": analyst, "actionDate": iccam_date(at)}
    if term.iccam_v3_reason:
        body["reasonId"] = _required_id(vocab, "action_reason", reason or "other")
        body["reasonText"] = reason_text or vocab.action_reason.term(reason or "other").label
    return body


def _required_id(vocab: Vocabulary, list_name: str, code: str) -> int:
    value = vocab.list(list_name).to_iccam(code)
    if value is None:
        raise NotExchangeable(f"ICCAM has no {list_name.replace('_', ' ')} for {code!r}")
    return value
