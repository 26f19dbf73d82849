"""Fixtures for the self-assessment tests: a coordinator, contributors and an open cycle."""

from datetime import date

import pytest

from helpers import sign_in_client


@pytest.fixture(autouse=True)
def _evidence_dir(settings, tmp_path):
    """Uploaded documents go to a folder of the test's own."""
    settings.ASSESSMENT_EVIDENCE_DIR = tmp_path / "evidence"


@pytest.fixture
def coordinator(make_user):
    return make_user("national_coordinator")


@pytest.fixture
def as_user(client):
    """as_user(user) -> the test client signed in as that user (second factor and step-up fresh)."""

    def sign_in(user, **kwargs):
        client.logout()
        return sign_in_client(client, user, **kwargs)

    return sign_in


@pytest.fixture
def cycle(coordinator):
    from openmnr.assessment import service

    return service.open_cycle(
        coordinator,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )


@pytest.fixture
def assign(coordinator):
    """assign(cycle, "societal", user, ...) -> give that domain to those contributors."""
    from openmnr.assessment import service

    def do(cycle, domain, *users, weight=1.0):
        service.assign_domain(coordinator, cycle, domain, contributors=users, weight=weight)

    return do
