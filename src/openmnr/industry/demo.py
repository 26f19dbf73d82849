"""Demo industry reports for `make run`: one provider set up for /ispws/ and one finished report.

The demo industry member account gets a CyberTipline credential; its username and password are
written to var/demo-logins.txt as the line ``ispws:<username>`` TAB ``<password>``, beside the other
demo logins, so a client can file to the demo server's /ispws at once. The report goes through
the same functions as one filed over HTTP: a known file (a benign corpus photograph the banks demo
holds as a stand-in for confirmed material) and a new one, with file details, finished into the
law-enforcement queue. All benign; every row is marked ``is_demo``. Run again, nothing is created
twice. Needs the demo users and the banks demo (loaded before this one).
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from openmnr.common.demo import base_url

from . import credentials, intake
from .importer import _spooled
from .models import Credential, Report

CORPUS = Path(settings.SRC_DIR).parents[1].parent / "shared" / "corpus" / "natural"
KNOWN, NEW = "astronaut-01.jpg", "camera-00.jpg"  # the banks demo confirmed astronaut-01
PROVIDER = "industry-member"
LOGIN_PREFIX = "ispws:"
REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<report>
  <incidentSummary>
    <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
    <platform>Demo Chat</platform>
    <incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime>
  </incidentSummary>
  <internetDetails><webPageIncident><url>https://chat.demo.openmnr.invalid/room/7</url></webPageIncident></internetDetails>
  <reporter><reportingPerson><firstName>Demo</firstName><lastName>Trust and Safety</lastName>
    <email>trust@demo.openmnr.invalid</email></reportingPerson></reporter>
  <personOrUserReported><espIdentifier>demo-user-42</espIdentifier><espService>Demo Chat</espService>
    <estimatedLocation><countryCode>{country}</countryCode></estimatedLocation></personOrUserReported>
  <additionalInfo>Demo report: the files are benign sample photographs.</additionalInfo>
</report>"""
DETAILS = """<fileDetails><reportId>{report}</reportId><fileId>{file}</fileId>
<originalFileName>camera.jpg</originalFileName><fileAnnotations><possibleSelfProduction>true</possibleSelfProduction>
</fileAnnotations><industryClassification>B2</industryClassification></fileDetails>"""


def _logins() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def _saved() -> dict[str, str]:
    path = _logins()
    if not path.exists():
        return {}
    return dict(line.partition("\t")[::2] for line in path.read_text().splitlines() if line)


def _save(saved: dict[str, str]) -> None:
    path = _logins()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}\t{v}\n" for k, v in saved.items()))
    path.chmod(0o600)


def _credential(provider) -> tuple[str, str]:
    saved = _saved()
    for key, password in saved.items():
        if key.startswith(LOGIN_PREFIX):
            username = key.removeprefix(LOGIN_PREFIX)
            if Credential.objects.filter(
                username=username, provider=provider, revoked_at__isnull=True
            ).exists():
                return username, password
            del saved[key]
            break
    credential, password = credentials.issue(provider)
    saved[LOGIN_PREFIX + credential.username] = password
    _save(saved)
    return credential.username, password


def load(out) -> None:
    provider = get_user_model().objects.filter(username=PROVIDER).first()
    if provider is None:
        out.write("\nDemo industry reports skipped: the demo industry member account is missing.\n")
        return
    username, password = _credential(provider)
    out.write("\nDemo industry reports (benign stand-ins, not abuse material):\n")
    out.write(f"  CyberTipline client: base URL {base_url()}/ispws, user {username}, password {password}\n")
    report = Report.objects.filter(is_demo=True).first()
    if report is None:
        if not CORPUS.is_dir():
            out.write(f"  Demo report skipped: the benign corpus {CORPUS} is missing.\n")
            return
        report = _report(provider)
    out.write(
        f"  Report IR-{report.pk}: {report.get_state_display()}; the queue: {base_url()}/staff/industry/\n"
    )


def _report(provider) -> Report:
    report = intake.submit(provider, REPORT.format(country=settings.TAKEDOWN_HOME_COUNTRY).encode())
    Report.objects.filter(pk=report.pk).update(is_demo=True)
    file_ids = [intake.upload(provider, report.pk, _spooled(CORPUS / name)).file_id for name in (KNOWN, NEW)]
    intake.fileinfo(provider, DETAILS.format(report=report.pk, file=file_ids[1]).encode())
    report, _ids = intake.finish(provider, report.pk)
    return report
