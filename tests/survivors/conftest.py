"""Fixtures for the survivors tests: a private index, a contact key, benign pictures' hashes."""

import json

import pytest

from survivors.pictures import hashes_of


@pytest.fixture(autouse=True)
def _private_index(settings, tmp_path):
    """Each test gets its own snapshot folder (so a fresh matcher) and sees changes at once."""
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0


@pytest.fixture(autouse=True)
def _contact_key(settings):
    from cryptography.fernet import Fernet

    settings.SURVIVORS_CONTACT_KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="session")
def photos(shared):
    """Hashes of a few benign corpus photographs from different sources (unrelated pictures)."""
    names = [
        "astronaut-01.jpg",
        "coffee-02.jpg",
        "rocket-03.jpg",
        "chelsea-04.jpg",
        "camera-05.jpg",
        "moon-06.jpg",
    ]
    return [hashes_of((shared / "corpus" / "natural" / name).read_bytes()) for name in names]


@pytest.fixture
def post_json(client):
    def post(url: str, body, **extra):
        return client.post(url, json.dumps(body), content_type="application/json", **extra)

    return post


@pytest.fixture
def open_case(post_json):
    """open_case([items]) -> (response JSON, code) through the page's endpoint."""

    def open_(items, **fields):
        body = {"items": items, "pictured": True, "under_18": True, **fields}
        response = post_json("/take-it-down/cases/", body)
        assert response.status_code == 201, response.content
        answer = response.json()
        return answer, answer["code"]

    return open_


@pytest.fixture
def industry_key(make_user):
    """(key text, owner) of an industry member allowed to match and to report outcomes."""
    from openmnr.accounts import apikeys

    owner = make_user("industry_member")
    _, text = apikeys.create_api_key(
        owner=owner, name="platform", scopes=["banks.match_hashes", "survivors.report_outcome"]
    )
    return text, owner


@pytest.fixture(scope="session")
def live_server(django_db_setup, django_db_blocker):
    """pytest-django's live server, started with plain HTTP (as tests/browser does): middleware
    reads the transport settings when the server starts, before any test's settings apply."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock(), override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()
