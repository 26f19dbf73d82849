"""Receiving reports: from the public form and from partner hotlines.

The intake path is kept lean: one transaction writes the submission, opens or joins one case per
URL, appends the audit event and enqueues the triage of each new case (a task row in the same
transaction, so a worker sees the task only once its case has committed, and a committed case
always has its task); nothing is fetched inline.
"""

import hashlib
import json
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.signals.url import CanonicalURL, InvalidURL, canonicalize

from . import codes, tasks
from .errors import IdempotencyConflict, InvalidReport, UnknownTrackingCode
from .models import NO_URL_THEMES, Case, ContentKind, FoundWhere, ReportedURL, Source, Submission
from .states import OPEN, PublicStatus, public_status


@dataclass(frozen=True)
class ReportInput:
    """What a report says, however it arrived."""

    urls: list[str]
    found_where: str = FoundWhere.OTHER
    content_kind: str = ContentKind.CSAM
    description: str = ""
    email: str = ""
    partner_reference: str = ""
    platform: str = ""
    username: str = ""


def canonical_urls(texts: list[str]) -> list[tuple[str, CanonicalURL]]:
    """(as written, canonical) for each URL, without repeats; `InvalidReport` names the bad one."""
    found: dict[str, tuple[str, CanonicalURL]] = {}
    for number, text in enumerate(texts, start=1):
        try:
            canonical = canonicalize(text)
        except InvalidURL as exc:
            raise InvalidReport(f"web address {number} cannot be checked: {exc}") from None
        found.setdefault(canonical.sha256, (text.strip(), canonical))
    if not found:
        raise InvalidReport("give at least one web address")
    if len(found) > settings.HOTLINE_MAX_URLS_PER_REPORT:
        raise InvalidReport(f"give at most {settings.HOTLINE_MAX_URLS_PER_REPORT} web addresses per report")
    return list(found.values())


def receive_public(report: ReportInput, *, request=None, is_demo: bool = False) -> Submission:
    """File a report from the public form. The reporter's address is never recorded. A demo report
    (demo.py) is not triaged from the network: the demo adds its media itself."""
    return _receive(report, source=Source.PUBLIC, request=request, is_demo=is_demo)


def receive_partner(
    report: ReportInput, *, api_key, idempotency_key: str, request=None
) -> tuple[Submission, bool]:
    """File a partner's report once per (key, Idempotency-Key): (submission, created). The same
    request again returns the first submission; another body under the same Idempotency-Key raises
    `IdempotencyConflict`.

    The report is written first and the earlier one looked for only when the unique constraint
    over (key, Idempotency-Key) refuses it: a first delivery, by far the common case, costs no
    lookup, and a retry costs a transaction that writes nothing (the submission's INSERT is its
    first statement, so nothing else ran). The same constraint settles two copies arriving at
    once. A reused Idempotency-Key whose new body is not a valid report is refused as invalid
    (400) before it is compared with the earlier one."""
    check_idempotency_key(idempotency_key)
    digest = request_digest(report)
    try:
        submission = _receive(
            report,
            source=Source.PARTNER,
            request=request,
            api_key=api_key,
            idempotency_key=idempotency_key,
            request_sha256=digest,
        )
        return submission, True
    except IntegrityError:
        # A retry, or the same request twice at once with the other copy committed first.
        earlier = Submission.objects.filter(api_key=api_key, idempotency_key=idempotency_key).first()
        if earlier is None:
            raise
    if earlier.request_sha256 != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different report")
    return earlier, False


def check_idempotency_key(idempotency_key: str) -> None:
    if not idempotency_key or len(idempotency_key) > 200 or not idempotency_key.isprintable():
        raise InvalidReport("the Idempotency-Key header must be 1 to 200 printable characters")


def request_digest(report: ReportInput) -> str:
    """What tells a retry (same digest) from a reuse of an Idempotency-Key (another digest)."""
    return hashlib.sha256(json.dumps(asdict(report), sort_keys=True).encode()).hexdigest()


def receive_network(report: ReportInput, *, request=None) -> Submission:
    """File a report that a partner hotline sent through a network (ICCAM, OpenMNR federation); the
    exchange app keeps who sent it. Triaged like any report."""
    return _receive(report, source=Source.PARTNER, request=request)


def _receive(
    report: ReportInput, *, source: str, request=None, is_demo: bool = False, **fields
) -> Submission:
    urls = urls_of(report)
    with transaction.atomic():
        return file_checked(report, urls, source=source, request=request, is_demo=is_demo, **fields)


def file_checked(
    report: ReportInput,
    urls: list[tuple[str, CanonicalURL]],
    *,
    source: str,
    request=None,
    is_demo: bool = False,
    **fields,
) -> Submission:
    """Write a report whose URLs `canonical_urls` already checked: inside the caller's
    transaction (or savepoint), so the submission, its cases, its audit event and its tasks commit
    together or not at all."""
    submission = Submission.objects.create(
        tracking_code=codes.new_code(),
        source=source,
        found_where=report.found_where,
        content_kind=report.content_kind,
        description=report.description,
        email=report.email,
        partner_reference=report.partner_reference,
        platform=report.platform,
        username=report.username,
        is_demo=is_demo,
        **fields,
    )
    opened = []
    for written, canonical in urls:
        case_id, created = _open_or_join(canonical, is_demo=is_demo)
        ReportedURL.objects.create(submission=submission, case_id=case_id, url_as_written=written)
        if created:
            opened.append(case_id)
    audit.record(
        "hotline.report.receive",
        request=request,
        obj=submission,
        detail={"source": source, "theme": report.content_kind, "urls": len(urls), "new_cases": len(opened)},
        client_address=source != Source.PUBLIC,
    )
    if not is_demo:
        for case_id in opened:
            tasks.enqueue_triage(case_id)
    return submission


def urls_of(report: ReportInput) -> list[tuple[str, CanonicalURL]]:
    """The report's canonical URLs; none only for a theme that may come without an address
    (sexual extortion, grooming), and then the description must say what happened."""
    if not [url for url in report.urls if url.strip()] and report.content_kind in NO_URL_THEMES:
        if not report.description.strip():
            raise InvalidReport("a report without a web address needs a description of what happened")
        return []
    return canonical_urls(report.urls)


def without_address():
    """The queue of reports without a web address, oldest unhandled first."""
    return Submission.objects.filter(urls__isnull=True, handled_at__isnull=True).order_by("received_at", "pk")


def mark_handled(submission_id: int, user, *, request=None) -> Submission:
    """An analyst dealt with a report without an address (answered, referred, passed on)."""
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.urls.exists():
            raise UnknownTrackingCode("there is no report without an address with this number")
        if submission.handled_at is None:
            submission.handled_at, submission.handled_by = timezone.now(), user
            submission.save(update_fields=["handled_at", "handled_by"])
            audit.record("hotline.report.handle", request=request, actor=user, obj=submission)
    return submission


def _open_or_join(canonical: CanonicalURL, *, is_demo: bool = False) -> tuple[int, bool]:
    """(case id, whether it is new): the open case for this URL with one more reporter, or a new
    case. Two reports of a new URL at the same moment cannot both open one: the unique constraint
    over open cases makes the second insert fail, and that report joins the first's case instead."""
    for _attempt in range(2):
        joined = _join_open_case(canonical.sha256)
        if joined is not None:
            return joined, False
        try:
            with transaction.atomic():
                case = Case.objects.create(url=canonical.url, url_sha256=canonical.sha256, is_demo=is_demo)
            return case.pk, True
        except IntegrityError:
            continue
    raise IntegrityError("the case for this URL changed twice while the report was filed")


def _join_open_case(url_sha256: str) -> int | None:
    """Count one more reporter on the open case of this URL and return its id, or None when the
    URL has no open case. One ``UPDATE ... RETURNING`` (atomic on its own, holding the row's lock
    until the report commits), where the ORM's update and a read of the row took two statements
    and most of a report's SQL-building time; written against the model's own table and columns."""
    quote = connection.ops.quote_name
    states = ", ".join(["%s"] * len(OPEN))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Case._meta.db_table)} SET {quote('reporter_count')} = {quote('reporter_count')} + 1 "
            f"WHERE {quote('url_sha256')} = %s AND {quote('state')} IN ({states}) RETURNING {quote('id')}",
            [url_sha256, *(str(state) for state in OPEN)],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def status_for_code(text: str) -> PublicStatus:
    """The coarse status of the report with this tracking code (all a reporter may learn).
    Raises `InvalidTrackingCode` for a typo and `UnknownTrackingCode` for a code nobody holds."""
    code = codes.normalise(text)
    submission = Submission.objects.filter(tracking_code=code).first()
    if submission is None:
        raise UnknownTrackingCode("no report has this tracking code")
    return _status(submission)


def _status(submission: Submission) -> PublicStatus:
    states = list(submission.urls.values_list("case__state", flat=True))
    if not states:  # a report without an address: closed once an analyst dealt with it
        return PublicStatus.CLOSED if submission.handled_at else PublicStatus.RECEIVED
    return public_status(states)


def status_for_partner(submission_id: int, owner) -> PublicStatus:
    """The coarse status of a report filed with a key of `owner` (a partner hotline's account)."""
    submission = Submission.objects.filter(pk=submission_id, api_key__owner=owner).first()
    if submission is None:
        raise UnknownTrackingCode("no report with this id was filed by your hotline")
    return _status(submission)
