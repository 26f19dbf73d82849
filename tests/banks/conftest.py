"""Fixtures for the banks tests: a private index folder per test (bank factories are shared, in
tests/conftest.py and tests/helpers.py)."""

import pytest


@pytest.fixture(autouse=True)
def _private_index(settings, tmp_path):
    """Each test gets its own snapshot folder (so a fresh matcher) and sees changes at once."""
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
