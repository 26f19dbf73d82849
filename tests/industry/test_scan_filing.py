"""A bulk scan's findings filed into the industry queue (``openmnr scan --file-into industry``): the
matched files become a report and a case analysts see in the queue, audited; the same scan run
again files nothing twice; an account that may not match files nothing."""

import json
import shutil

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.industry import services
from openmnr.industry.models import Case, File, Report

from .conftest import KNOWN, NATURAL, NEW, OTHER


@pytest.fixture
def folder(shared, tmp_path):
    folder = tmp_path / "storage"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(shared / NATURAL / KNOWN, folder / "sub" / KNOWN)
    shutil.copy(shared / NATURAL / NEW, folder / NEW)
    shutil.copy(shared / NATURAL / OTHER, folder / OTHER)
    return folder


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_scan_files_its_matches_once_for_analysts(known_bank, make_user, folder, tmp_path, capsys):
    from openmnr.cli import main

    scanner = make_user("analyst")
    out = tmp_path / "out"
    command = ["scan", str(folder), "--out", str(out), "--as", scanner.username, "--workers", "1"]
    command += ["--no-progress", "--file-into", "industry"]

    assert main(command) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["matches"] == 1 and summary["filed"]["files"] == 1
    case = Case.objects.get()
    assert case.state == "queued" and case.known_files == 1 and case.new_files == 0
    (filed,) = File.objects.filter(report=case.report)
    assert filed.file_name == str(folder / "sub" / KNOWN) and filed.name == KNOWN
    assert filed.matched and filed.match_detail[0]["bank"] == known_bank.name
    assert case.report.provider == scanner and case.report.state == "finished"
    finished = AuditEvent.objects.get(action="industry.report.finished")
    assert finished.actor == scanner.username and finished.detail["scan"] == (out / "scan-id").read_text()
    assert finished.detail["known"] == 1

    # The same command again (a continued or repeated scan): nothing is filed twice.
    assert main(command) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["filed"]["files"] == 0 and again["filed"]["already_filed"] == 1
    assert Report.objects.count() == 1

    # Asking for the unknown files as well files only those not filed yet.
    assert main([*command, "--file-unknown"]) == 0
    more = json.loads(capsys.readouterr().out)
    assert more["filed"]["files"] == 2 and more["filed"]["already_filed"] == 1
    assert sorted(File.objects.values_list("name", flat=True)) == sorted([KNOWN, NEW, OTHER])
    newest = Case.objects.exclude(pk=case.pk).get()
    assert newest.new_files == 2 and newest.known_files == 0


@pytest.mark.django_db
def test_an_account_that_may_not_match_files_nothing(make_user):
    coordinator = make_user("national_coordinator")
    row = {"path": "/x/a.jpg", "size": 1, "content_type": "photo", "md5": "0" * 32, "match": True}
    with pytest.raises(services.ScanFilingError):
        services.file_scan([row], scan_id="abcdef0123456789abcdef01", account=coordinator)
    assert not Report.objects.exists()
    refused = AuditEvent.objects.get(action="industry.scan.file")
    assert refused.outcome == "denied" and refused.actor == coordinator.username


@pytest.mark.django_db
def test_what_is_filed_from_a_scan(make_user):
    matched = {"path": "a", "match": True, "action": "confirmed_csam", "content_type": "photo"}
    candidate = {"path": "b", "match": False, "action": "vpdq_candidate", "content_type": "video"}
    unknown = {"path": "c", "match": False, "action": None, "content_type": "photo", "error_kind": ""}
    broken = {"path": "d", "match": False, "content_type": None, "error_kind": "corrupt_media"}
    chosen = [
        r["path"] for r in (matched, candidate, unknown, broken) if services.to_file(r, include_unknown=False)
    ]
    assert chosen == ["a", "b"]
    chosen = [
        r["path"] for r in (matched, candidate, unknown, broken) if services.to_file(r, include_unknown=True)
    ]
    assert chosen == ["a", "b", "c"]
