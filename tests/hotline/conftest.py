"""Fixtures for the hotline tests: a web site on 127.0.0.1 serving benign corpus images, a bank of
confirmed material holding some of them, and a way to run the task worker."""

import hashlib

import pytest

from helpers import confirmed_entry


@pytest.fixture(autouse=True)
def _hotline_settings(settings, tmp_path):
    """Triage may reach the test site on 127.0.0.1 (and nothing else private); each test has its own
    match index folder and sees bank changes at once; evidence is kept in a temporary folder."""
    settings.FETCH_ALLOW_PRIVATE = ["127.0.0.1"]
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.KEEP_EVIDENCE = False
    settings.EVIDENCE_KEY = ""


@pytest.fixture
def corpus(shared):
    """Benign photographs of unrelated sources (tiles of one source may overlap, so one each)."""
    folder = shared / "corpus" / "natural"
    return {name: folder / f"{name}-00.jpg" for name in ("astronaut", "camera", "coffee", "chelsea")}


@pytest.fixture
def known_bank(make_user):
    """known_bank(*files) -> a bank of confirmed CSAM (purpose and four eyes as in production)
    holding the SHA-256 of each file as baseline, category A, with the age group, gender and flags
    an item matching it takes over (`entry` overrides them); built through banks.services."""
    from openmnr.banks import services as banks
    from openmnr.banks.models import Bank

    def make(*files, name="Confirmed material", entry=None):
        entry = {"age_group": "prepubescent", "gender": "female", "flags": []} if entry is None else entry
        admin, analyst = make_user("administrator"), make_user("analyst")
        seniors = make_user("senior_analyst"), make_user("senior_analyst")
        bank = banks.save_bank(
            Bank(name=name, purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]),
            match_accounts=[],
            by=admin,
        )
        for file in files:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            confirmed_entry(bank, "sha256", digest, by=analyst, seniors=seniors, category="A", **entry)
        return bank

    return make


def run_worker():
    """Run every queued task in this process, as `openmnr worker` would, then return."""
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)


@pytest.fixture
def worker():
    return run_worker
