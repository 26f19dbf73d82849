"""The CyberTipline protocol's operations, one function each, for the views at /ispws/ to call.

Every function takes the provider (the account behind the credential) and raises
``openmnr.core.cybertipline.codes.ProtocolError`` for anything the protocol answers with a non-zero
code, before changing anything: a refused request leaves no trace in the database. A provider only
ever finds its own reports: another provider's report is answered exactly like one that does not
exist (5001), so report ids cannot be probed.

Writes are short transactions that lock the report row, so an upload racing a finish or a retract
either lands before it or is refused after it, never half-way.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from lxml import etree

from openmnr.audit import services as audit
from openmnr.core.cybertipline import documents, model
from openmnr.core.cybertipline.codes import Code, ProtocolError

from . import annotations, lifecycle, statements, triage
from .files import SpooledFile, file_row, signals_of
from .models import File, Report, Source
from .states import ReportState


def _report_id(text) -> int:
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        raise ProtocolError(
            Code.INVALID_REQUEST, "Invalid request: 'id' must be a report id (a number)"
        ) from None
    if value <= 0 or value > 2**63 - 1:
        raise ProtocolError(Code.NO_SUCH_REPORT, f"No such report: {value}", report_id=None)
    return value


def _own_open(provider, report_id: int, *, lock: bool) -> Report:
    """The provider's report ``report_id``, open; the protocol's error otherwise."""
    report = statements.own_report(provider.pk, report_id, Source.API, lock=lock)
    if report is None or report.state == ReportState.EXPIRED:
        raise ProtocolError(Code.NO_SUCH_REPORT, f"No such report: no open report {report_id} of yours")
    if report.state == ReportState.OPEN and lifecycle.is_expired(report):
        raise ProtocolError(
            Code.NO_SUCH_REPORT, f"No such report: report {report_id} expired (not finished in time)"
        )
    if report.state == ReportState.RETRACTED:
        raise ProtocolError(Code.ALREADY_RETRACTED, f"Report {report_id} was retracted", report_id=report_id)
    if report.state == ReportState.FINISHED:
        raise ProtocolError(
            Code.ALREADY_FINISHED, f"Report {report_id} is already finished", report_id=report_id
        )
    return report


def _touch_open(provider, report_id: int) -> None:
    """Lock the provider's open report ``report_id`` and mark it changed, in one UPDATE; the
    protocol's error otherwise (read under the lock by ``_own_open``).

    The UPDATE's conditions are ``_own_open``'s (the provider's, from the API, open, not past
    NCMEC's expiry rule), so it changes a row exactly when ``_own_open`` would have returned it;
    it takes the same row lock a SELECT ... FOR UPDATE takes (on SQLite the transaction already
    holds the write lock). Writes that only need the report to be open (an upload, a fileinfo)
    thus cost one statement instead of a locked read and an update: the transaction rolls the
    change time back with everything else if a later check refuses the request."""
    opened_before, changed_before = lifecycle.expiry_cutoffs()
    now = timezone.now()
    if not statements.touch_open(provider.pk, report_id, Source.API, now, opened_before, changed_before):
        _own_open(provider, report_id, lock=True)  # raises the precise refusal
        raise ProtocolError(Code.NO_SUCH_REPORT, f"No such report: no open report {report_id} of yours")


def submit(provider, data: bytes, *, request=None) -> Report:
    """Open a report from a ``<report>`` document."""
    root = documents.parse(data, "report", max_bytes=settings.INDUSTRY_MAX_XML_BYTES)
    facts = model.report_facts(root)
    with transaction.atomic():
        report = Report.objects.create(
            provider=provider,
            provider_name=provider.get_username(),
            source=Source.API,
            xml=etree.tostring(root, encoding="unicode"),
            incident_type=facts.incident_type[:120],
            escalate=facts.escalate,
        )
        audit.record(
            "industry.report.open",
            request=request,
            actor=provider,
            obj=report,
            detail={
                "incident": annotations.incident_code(facts.incident_type),
                "escalated": bool(facts.escalate),
            },
        )
    return report


def upload(provider, report_id_text, upload: SpooledFile | None, *, request=None) -> File:
    """Add a file to an open report: hashed now, its bytes kept encrypted or not at all."""
    report_id = _report_id(report_id_text)
    if upload is None:
        raise ProtocolError(Code.INVALID_REQUEST, "Invalid request: the multipart field 'file' is missing")
    if upload.size > settings.INDUSTRY_MAX_FILE_BYTES:
        raise ProtocolError(
            Code.INVALID_REQUEST,
            f"Invalid request: the file is larger than the limit of {settings.INDUSTRY_MAX_FILE_BYTES} bytes",
        )
    # No unlocked look at the report before hashing: a provider can have any file hashed by
    # uploading it to an open report of its own, so refusing earlier would save no one anything
    # but would cost every good upload a statement. The refusal below comes before anything is kept.
    found = signals_of(upload)
    created = file_row(upload, found, report_id=report_id, file_id=secrets.token_hex(16))
    try:
        with transaction.atomic():
            _touch_open(provider, report_id)
            # The file cap is checked by the INSERT itself, under the report's lock just taken.
            if not statements.insert_file_under_cap(created, settings.INDUSTRY_MAX_FILES_PER_REPORT):
                raise ProtocolError(
                    Code.INVALID_REQUEST,
                    f"Invalid request: a report holds at most {settings.INDUSTRY_MAX_FILES_PER_REPORT} files",
                )
    except BaseException:
        from . import evidence

        evidence.forget([found.evidence_id, found.thumbnail_id])
        raise
    return created


def fileinfo(provider, data: bytes, *, request=None) -> File:
    """Describe an uploaded file with a ``<fileDetails>`` document (a later one replaces it)."""
    root = documents.parse(data, "fileDetails", max_bytes=settings.INDUSTRY_MAX_XML_BYTES)
    facts = model.file_facts(root)
    # The description is written by one UPDATE of the file (by report and file id): no read
    # first; no row changed means no such file of this report.
    file = File(report_id=facts.report_id, file_id=facts.file_id)
    describe(file, facts, etree.tostring(root, encoding="unicode"))
    with transaction.atomic():
        _touch_open(provider, facts.report_id)
        if not statements.update_columns(
            file, DESCRIBED_FIELDS, report=facts.report_id, file_id=facts.file_id
        ):
            raise ProtocolError(
                Code.NO_SUCH_FILE,
                f"No such file: report {facts.report_id} has no file {facts.file_id[:40]}",
                report_id=facts.report_id,
            )
    return file


DESCRIBED_FIELDS = [
    "details_xml",
    "file_name",
    "original_file_name",
    "location",
    "classification",
    "annotations",
    "flags",
    "ip",
]


def describe(file: File, facts: model.FileFacts, xml: str) -> None:
    """Copy what ``<fileDetails>`` says onto the file, in our vocabulary where there is one."""
    vocabulary = annotations.file_vocabulary(facts.classification, list(facts.annotations))
    file.details_xml = xml
    file.file_name = facts.file_name[:500]
    file.original_file_name = facts.original_file_name[:500]
    file.location = facts.location
    file.classification = facts.classification
    file.annotations = list(facts.annotations)
    file.flags = vocabulary["flags"]
    file.ip = facts.ip[:64]


def finish(provider, report_id_text, *, request=None) -> tuple[Report, list[str]]:
    """Finish a report: final. It becomes a case in the law-enforcement queue in the same
    transaction, so an acknowledged finish always has its case."""
    report_id = _report_id(report_id_text)
    # The files uploaded so far are matched before the transaction: matching is most of a finish's
    # work, and on SQLite every other writer waits while a transaction runs. A file's signals never
    # change, so these results hold; a file uploaded in between is matched inside (``match_files``).
    early = triage.match_results(statements.files_of_open_report(provider.pk, report_id, Source.API))
    with transaction.atomic():
        report = _own_open(provider, report_id, lock=True)
        files = statements.files_to_finish(report.pk)  # what matching and the case use
        matching = triage.match_files(files, early)
        report = lifecycle.transition(
            report,
            ReportState.FINISHED,
            request=request,
            actor=provider,
            locked=True,
            reason=f"{len(files)} files",
            detail=matching,
        )
        triage.open_case(report, files, request=request)
    return report, [f.file_id for f in files]


def retract(provider, report_id_text, *, request=None) -> Report:
    """Cancel an open report: its document, files and kept bytes are erased."""
    report_id = _report_id(report_id_text)
    with transaction.atomic():
        report = _own_open(provider, report_id, lock=True)
        return lifecycle.transition(
            report,
            ReportState.RETRACTED,
            request=request,
            actor=provider,
            locked=True,
            reason="retracted by the provider",
        )
