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
    from openmnr.assessment import services

    return services.open_cycle(
        coordinator,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )


@pytest.fixture
def assign(coordinator):
    """assign(cycle, "societal", user, ...) -> give that domain to those contributors."""
    from openmnr.assessment import services

    def do(cycle, domain, *users, weight=1.0):
        services.assign_domain(coordinator, cycle, domain, contributors=users, weight=weight)

    return do


@pytest.fixture
def second_coordinator(make_user):
    """Another national coordinator: the second pair of eyes that countersigns."""
    return make_user("national_coordinator")


@pytest.fixture
def sign_off(coordinator, second_coordinator):
    """sign_off(cycle) -> the cycle reviewed, signed by the coordinator and countersigned by the
    second coordinator through the services, as the confirmation pages would."""
    from openmnr.assessment import services, signoff

    def do(cycle, first=None, second=None):
        first, second = first or coordinator, second or second_coordinator
        services.transition(first, cycle, "in_review")
        services.transition(
            first, cycle, "awaiting_countersignature", seen_digest=signoff.records_digest(cycle)
        )
        cycle.refresh_from_db()
        services.transition(second, cycle, "signed_off", seen_digest=cycle.content_sha256)
        cycle.refresh_from_db()
        return cycle

    return do


def sign_through_pages(client, as_user, cycle, first, second):
    """Review, sign and countersign through the pages: the confirmation page gives the digest."""
    import re

    as_user(first)
    assert client.post(f"/staff/assessment/{cycle.pk}/state/", {"to": "in_review"}).status_code == 302
    for user in (first, second):
        as_user(user)
        page = client.get(f"/staff/assessment/{cycle.pk}/sign/").content.decode()
        digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
        response = client.post(f"/staff/assessment/{cycle.pk}/sign/", {"digest": digest})
        assert response.status_code == 302, response.content.decode()[:2000]
    cycle.refresh_from_db()
    return cycle


@pytest.fixture
def peer(make_user):
    """peer("Neighbourland") -> (signing key, administrator) with that country's key set by an
    administrator, as the peer keys page does."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from openmnr.assessment import results

    admin = make_user("administrator")

    def add(country):
        key = Ed25519PrivateKey.generate()
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        results.set_peer_key(admin, country, pem)
        return key

    return add


def package(country, levels, key, year=2026):
    """Signed results of ``country`` (capability -> (current, target)) for the period of ``year - 1``."""
    from openmnr.assessment.demo import results_package

    return results_package(country, levels, key, year)
