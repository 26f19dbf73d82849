"""`openmnr iccam sync` and `openmnr iccam check` against the fake ICCAM."""

import pytest

from openmnr.cli import main
from openmnr.core.vocabulary import vocabulary

pytestmark = pytest.mark.django_db


def lookups_from_vocabulary() -> dict:
    lists = {}
    for term_list in vocabulary().lists.values():
        if term_list.iccam_v3_lookup:
            key = "type" if term_list.name == "action" else "id"
            lists[term_list.iccam_v3_lookup.removeprefix("rest/")] = [
                {key: t.iccam_v3, "name": t.iccam_v3_name} for t in term_list.terms if t.iccam_v3 is not None
            ]
    return lists


def test_sync_prints_what_it_did(fake, capsys):
    fake.add_report(41, ["https://a.example/", "https://b.example/"])
    assert main(["iccam", "sync"]) == 0
    out = capsys.readouterr().out
    assert "imported 2 item(s) (0 joined an open case), acknowledged 2" in out
    assert main(["iccam", "sync"]) == 0
    assert "imported 0 item(s)" in capsys.readouterr().out


def test_sync_says_when_the_cycle_failed(fake, capsys):
    fake.fail("GET", "no-reference", 503)
    assert main(["iccam", "sync"]) == 1
    assert "cycle failed" in capsys.readouterr().out


def test_check_matches_the_lookup_lists(fake, capsys):
    fake.lookups = lookups_from_vocabulary()
    assert main(["iccam", "check"]) == 0
    out = capsys.readouterr().out
    assert "logged in to" in out and "rest/classifications: 3 ids, matches the vocabulary" in out


def test_check_names_what_differs(fake, capsys):
    fake.lookups = lookups_from_vocabulary()
    fake.lookups["classifications"] = [
        {"id": 1, "name": "Baseline CSAM"},
        {"id": 2, "name": "Something else"},
        {"id": 3, "name": "Doubtful"},
    ]
    assert main(["iccam", "check"]) == 1
    out = capsys.readouterr().out
    assert "rest/classifications: 3 ids, DIFFERS" in out
    assert "id 4 (not_illegal) is not in ICCAM's list" in out
    assert "id 2: ICCAM says 'Something else'" in out
    assert "id 3 (Doubtful) is not in the vocabulary" in out


def test_check_with_a_wrong_password(fake, settings, capsys):
    settings.ICCAM_PASSWORD = "wrong"
    assert main(["iccam", "check"]) == 1
    assert "refused the login" in capsys.readouterr().out


def test_not_configured(settings, capsys):
    settings.ICCAM_URL = ""
    assert main(["iccam", "sync"]) == 2
    assert "ICCAM is not configured" in capsys.readouterr().out
    settings.ICCAM_URL = "https://iccam.invalid/"
    settings.ICCAM_USERNAME = ""
    assert main(["iccam", "check"]) == 2
    assert "OPENMNR_ICCAM_USERNAME" in capsys.readouterr().out
