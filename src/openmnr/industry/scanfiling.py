"""A bulk scan's findings filed into the industry queue, for analysts to review.

``openmnr scan ... --file-into industry --as ACCOUNT`` ends here once the scan is complete: the
files that matched a bank (and the video candidates a vPDQ frame found; with ``include_unknown``,
also every picture or video that matched nothing) become industry reports, as if an industry
member had filed them through the CyberTipline-compatible API, and go through the same triage:
matched again on the platform as the industry service account (``triage.match_files``), a case
opened in the queue with its risk, and the report's finishing transition audited with the counts.

What is filed is a file's path (``file_name``), its base name, size, media type and the file's
own signals (PDQ and its quality, MD5, SHA-256). No bank value is ever filed: the scan's results
carry none, and the match the analysts see is the platform's own (bank, entry id, distance),
shown through the industry viewer's rules like any report's. The bytes are not filed: the
analyst works from the path, on the scanned storage.

Idempotent per file. A file's id is the digest of the scan's id (``OUT/scan-id``, fixed when the
scan started, so the same for every continued run) and its path, and ``File.file_id`` is unique:
files already filed are left out before a report is made, so running the same scan (or filing it)
again never files a file twice, even when ``include_unknown`` is added the second time. Files are
filed in path order, ``FILES_PER_REPORT`` a report, each report in its own transaction (all of it
or nothing); two runs racing for the same report number store it once (the unique report id),
the loser's files being filed by the next run.
"""

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from django.db import IntegrityError, transaction

from openmnr.audit.refusals import refusal_recorder

from . import lifecycle, triage
from .models import File, Report, Source
from .states import ReportState

#: Files per report: a report an analyst can work through in one sitting, and a transaction of
#: a bounded size however many files a scan files.
FILES_PER_REPORT = 500
SCAN_PREFIX = "scan-"
PERMISSION = "banks.match_hashes"  # the right that let the account scan (its bundle)
MEDIA_TYPES = ("photo", "video")
REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <incidentDateTime>{when}</incidentDateTime>
  </incidentSummary>
  <reporter><reportingPerson><firstName>{account}</firstName><lastName>bulk scan</lastName>
    </reportingPerson></reporter>
  <additionalInfo>{info}</additionalInfo>
</report>"""


class ScanFilingError(Exception):
    """The scan cannot be filed (an account without the right, a bad scan id): nothing is filed."""


class ScanNotAllowed(ScanFilingError):
    """The account may not match against the banks, so it may not file what it matched."""


audited_refusal = refusal_recorder(ScanFilingError, denied=(ScanNotAllowed,))


@dataclass
class Filed:
    files: int = 0  # filed now
    already: int = 0  # filed by an earlier run (or a racing one)
    reports: list[int] = field(default_factory=list)  # report ids made now
    cases: list[int] = field(default_factory=list)


def to_file(row: dict, *, include_unknown: bool) -> bool:
    """Whether a scan row is filed: a match or a video candidate, or (``include_unknown``) any
    picture or video hashed without error."""
    if row.get("match") or row.get("action") == "vpdq_candidate":
        return True
    return include_unknown and row.get("content_type") in MEDIA_TYPES and not row.get("error_kind")


def file_scan(rows: Iterable[dict], *, scan_id: str, account, source: str = "", request=None) -> Filed:
    """File `rows` (scan result rows already chosen with ``to_file``) for `account`; see the
    module docstring. Raises ``ScanFilingError`` before filing anything when it cannot be done."""
    with audited_refusal("industry.scan.file", by=account, request=request):
        if not account.is_active or not account.has_perm(PERMISSION):
            raise ScanNotAllowed(
                f"{account.get_username()} may not match against the banks, so not file a scan"
            )
        if not scan_id.isalnum() or not 8 <= len(scan_id) <= 24:
            raise ScanFilingError("the scan id must be 8 to 24 letters or digits")
    ordered = sorted(rows, key=lambda row: row["path"])
    filed = Filed()
    for start in range(0, len(ordered), FILES_PER_REPORT):
        _file_chunk(ordered[start : start + FILES_PER_REPORT], scan_id, account, source, request, filed)
    return filed


def file_id(scan_id: str, path: str) -> str:
    return hashlib.sha256(f"{SCAN_PREFIX}{scan_id}\0{path}".encode()).hexdigest()[:32]


def _file_chunk(chunk: list[dict], scan_id: str, account, source: str, request, filed: Filed) -> None:
    ids = {file_id(scan_id, row["path"]): row for row in chunk}
    known = set(File.objects.filter(file_id__in=list(ids)).values_list("file_id", flat=True))
    new = {key: row for key, row in ids.items() if key not in known}
    filed.already += len(known)
    if not new:
        return
    prefix = f"{SCAN_PREFIX}{scan_id}-"
    try:
        with transaction.atomic():
            number = Report.objects.filter(source=Source.IMPORT, external_id__startswith=prefix).count() + 1
            name = account.get_username()
            info = f"Filed by openmnr scan {scan_id} ({source or 'sources not named'}): {len(new)} files."
            report = Report.objects.create(
                provider=account,
                provider_name=f"bulk scan by {name}"[:200],
                source=Source.IMPORT,
                external_id=f"{prefix}{number}",
                xml=REPORT.format(
                    when=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    account=escape(name[:100]),
                    info=escape(info[:2000]),
                ),
                incident_type="Child Pornography (possession, manufacture, and distribution)",
            )
            File.objects.bulk_create([_file(report, key, row) for key, row in new.items()])
            files = list(report.files.all())
            matching = triage.match_files(files)
            report = lifecycle.transition(
                report,
                ReportState.FINISHED,
                actor=account,
                request=request,
                reason=f"filed by bulk scan {scan_id} with {len(files)} files",
                detail={**matching, "scan": scan_id},
            )
            case = triage.open_case(report, files, request=request)
    except IntegrityError:  # another run filed this report number or these files first
        filed.already += len(new)
        return
    filed.files += len(new)
    filed.reports.append(report.pk)
    filed.cases.append(case.pk)


def _file(report: Report, key: str, row: dict) -> File:
    path = str(row["path"])
    return File(
        report=report,
        file_id=key,
        name=os.path.basename(path.rsplit("!/", 1)[-1])[:255],
        file_name=path[:500],
        size=int(row.get("size") or 0),
        media_type=row.get("content_type") if row.get("content_type") in MEDIA_TYPES else "",
        md5=row.get("md5") or "",
        sha256=row.get("sha256") or "",
        pdq=row.get("pdq") or "",
        pdq_quality=row.get("pdq_quality"),
        error=row.get("error") or "",
    )
