"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only test data folder that sits beside the clone (../shared)."""
    if not SHARED.is_dir():
        pytest.fail(f"test data folder {SHARED} is missing: it must sit beside the clone")
    return SHARED
