"""Fixtures for the banks tests: a private index folder per test and bank factories."""

import pytest


@pytest.fixture(autouse=True)
def _private_index(settings, tmp_path):
    """Each test gets its own snapshot folder (so a fresh matcher) and sees changes at once."""
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0


@pytest.fixture
def make_bank(db):
    from openmnr.banks.models import Bank, Purpose

    def make(purpose=Purpose.CONFIRMED_CSAM, *, name=None, match_roles=None, **fields):
        roles = ["analyst", "senior_analyst", "industry_member", "partner_hotline"]
        return Bank.objects.create(
            name=name or f"{purpose} bank {Bank.objects.count() + 1}",
            purpose=purpose,
            match_roles=roles if match_roles is None else match_roles,
            **fields,
        )

    return make


@pytest.fixture
def seniors(make_user):
    return make_user("senior_analyst"), make_user("senior_analyst")
