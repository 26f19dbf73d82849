"""Fixtures for the exchange tests: a fake ICCAM with real mutual TLS (tests/fake_iccam.py) that the
settings point at, a web site on 127.0.0.1 for triage, and helpers to move hotline cases along
through the hotline's own services."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fake_iccam import FakeIccam, make_pki


def write_key(path, key=None):
    """An Ed25519 private key in a PEM file (a new one unless given); the path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = key or Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("iccam-pki"))


@pytest.fixture(autouse=True)
def _exchange_settings(settings, tmp_path):
    settings.FETCH_ALLOW_PRIVATE = ["127.0.0.1"]
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    settings.KEEP_EVIDENCE = False
    settings.EVIDENCE_KEY = ""
    settings.TAKEDOWN_HOME_COUNTRY = "PT"
    settings.TAKEDOWN_FROM_EMAIL = "hotline@hotline.test"
    settings.ICCAM_URL = ""
    settings.FEDERATION_SIGNING_KEY = str(write_key(tmp_path / "keys" / "federation.pem"))
    settings.FEDERATION_ALLOW_HTTP = ["127.0.0.1"]
    settings.FEDERATION_TIMEOUT_SECONDS = 5


@pytest.fixture
def fake(pki, settings):
    """A fake ICCAM that the settings point at; our country is PT, pages of 3 items."""
    server = FakeIccam(pki, country="PT").start()
    settings.ICCAM_URL = server.url
    settings.ICCAM_USERNAME = server.username
    settings.ICCAM_PASSWORD = server.password
    settings.ICCAM_CLIENT_CERT = pki.client_cert
    settings.ICCAM_CLIENT_KEY = pki.client_key
    settings.ICCAM_CA_CERT = pki.ca_cert
    settings.ICCAM_COUNTRY = "PT"
    settings.ICCAM_MAX_RESULTS = 3
    settings.ICCAM_TIMEOUT_SECONDS = 5
    yield server
    server.stop()


class Site:
    """A tiny web site on 127.0.0.1: path -> (content type, body)."""

    def __init__(self):
        self.pages: dict[str, tuple[str, bytes]] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                content_type, body = site.pages.get(self.path, ("text/plain", b"not found"))
                self.send_response(200 if self.path in site.pages else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def page_with_image(self, path: str, image_path: str, image: bytes) -> str:
        self.pages[image_path] = ("image/jpeg", image)
        self.pages[path] = ("text/html", f'<html><body><img src="{image_path}"></body></html>'.encode())
        return self.url(path)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture
def assess(db):
    """assess(case_id, assessment, age_group="", category="") moves a case to assessed the way
    triage and an analyst would, through the hotline's state machine."""
    from django.utils import timezone

    from openmnr.hotline import cases
    from openmnr.hotline.states import State

    def move(case_id: int, assessment: str, *, age_group: str = "", category: str = ""):
        case = cases.transition(case_id, State.TRIAGED, reason="test: triaged")
        cases.transition(
            case.pk,
            State.ASSESSED,
            reason="test: assessed",
            assessment=assessment,
            category=category,
            age_group=age_group,
            assessed_at=timezone.now(),
        )

    return move


@pytest.fixture
def public_case(db):
    """public_case(url) -> the id of the case a public report of `url` opened."""
    from openmnr.hotline import intake

    def make(url: str) -> int:
        submission = intake.receive_public(intake.ReportInput(urls=[url]), is_demo=True)
        return submission.urls.get().case_id

    return make


@pytest.fixture
def administrator(make_user, db):
    user = make_user("administrator")
    user.email = "admin@hotline.test"
    user.save(update_fields=["email"])
    return user


@pytest.fixture(scope="session")
def live_server():
    """Django's live server on 127.0.0.1, plain HTTP: middleware reads the transport settings when
    the server starts, so they are set before it does (as in tests/browser)."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()
