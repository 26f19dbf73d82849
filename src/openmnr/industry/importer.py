"""Bulk import of CyberTipline reports filed elsewhere (as police receive them), into the same triage.

Layout, one report per XML file, its files beside it::

    12345678.xml             the <report> document; its name (without .xml) is the report id
    12345678/                its files, any names (optional)
    12345678/photo.jpg
    12345678/photo.xml       optional <fileDetails> for a file: it names the file in <fileName>
                             (or <originalFileName>); its reportId and fileId are not ours and are
                             ignored

A PATH may be such an XML file or a folder holding them. Import is idempotent by report id: a report
id already imported is skipped, and a unique constraint makes two imports racing for it store it
once. Each report is checked against NCMEC's schema like one filed over HTTP, hashed, matched and
queued exactly the same way; a refused one is named with the validator's reason and nothing of it
is kept.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction
from lxml import etree

from openmnr.core.cybertipline import documents, model
from openmnr.core.cybertipline.codes import ProtocolError

from . import evidence, lifecycle, triage
from .files import SpooledFile, file_row, signals_of
from .intake import describe
from .models import Report, Source
from .states import ReportState

_REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class Outcome:
    path: Path
    status: str  # imported, skipped, refused
    message: str
    report: Report | None = None


def report_files(paths) -> list[Path]:
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() == ".xml" and p.is_file())
        else:
            found.append(path)
    return found


def import_paths(paths) -> list[Outcome]:
    return [import_report(path) for path in report_files(paths)]


def _spooled(path: Path) -> SpooledFile:
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size, head = 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            head = head or chunk[:64]
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return SpooledFile(path, path.name, size, md5.hexdigest(), sha256.hexdigest(), head)


def _details(folder: Path) -> dict[str, tuple[model.FileFacts, str]]:
    """fileDetails documents in the folder, by the file name they describe."""
    found = {}
    for path in sorted(folder.glob("*.xml")):
        try:
            root = documents.parse(path.read_bytes(), "fileDetails")
        except ProtocolError:
            continue
        facts = model.file_facts(root)
        for name in (facts.file_name, facts.original_file_name):
            if name:
                found.setdefault(name, (facts, etree.tostring(root, encoding="unicode")))
    return found


def import_report(path: Path) -> Outcome:
    report_id = path.stem
    if not _REPORT_ID.match(report_id):
        return Outcome(path, "refused", "the file name must be the report id (letters, digits, - and _)")
    if Report.objects.filter(source=Source.IMPORT, external_id=report_id).exists():
        return Outcome(path, "skipped", f"report {report_id} was imported before")
    try:
        root = documents.parse(path.read_bytes(), "report")
    except OSError as exc:
        return Outcome(path, "refused", f"cannot read it: {exc.strerror or exc}")
    except ProtocolError as exc:
        return Outcome(path, "refused", f"{exc.description} (code {int(exc.code)})")
    facts = model.report_facts(root)
    folder = path.with_suffix("")
    uploads = (
        sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() != ".xml")
        if folder.is_dir()
        else []
    )
    details = _details(folder) if folder.is_dir() else {}
    hashed = [(upload, signals_of(upload)) for upload in map(_spooled, uploads)]
    try:
        with transaction.atomic():
            report = Report.objects.create(
                provider=None,
                provider_name=(facts.platform or facts.reporter or "imported report")[:200],
                source=Source.IMPORT,
                external_id=report_id,
                xml=etree.tostring(root, encoding="unicode"),
                incident_type=facts.incident_type[:120],
                escalate=facts.escalate,
            )
            for upload, found in hashed:
                file_id = hashlib.sha256(f"{report_id}\0{upload.name}".encode()).hexdigest()[:32]
                file = file_row(upload, found, report=report, file_id=file_id)
                if upload.name in details:
                    describe(file, *details[upload.name])
                file.save(force_insert=True)
            files = list(report.files.all())
            matching = triage.match_files(files)
            report = lifecycle.transition(
                report,
                ReportState.FINISHED,
                reason=f"imported from {path.name} with {len(hashed)} files",
                detail=matching,
            )
            case = triage.open_case(report, files)
    except IntegrityError:
        evidence.forget([i for _u, f in hashed for i in (f.evidence_id, f.thumbnail_id)])
        return Outcome(path, "skipped", f"report {report_id} was imported at the same time by another run")
    except BaseException:
        evidence.forget([i for _u, f in hashed for i in (f.evidence_id, f.thumbnail_id)])
        raise
    return Outcome(path, "imported", f"report {report_id}: {len(hashed)} files, case {case.pk}", report)
