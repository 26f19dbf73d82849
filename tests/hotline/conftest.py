"""Fixtures for the hotline tests: a web site on 127.0.0.1 serving benign corpus images, a bank of
confirmed material holding some of them, and a way to run the task worker."""

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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


class Site:
    """A tiny web site: path -> (content type, body). A path can be held: its request waits until
    the test releases it, which lets a test stop a worker in the middle of a case."""

    def __init__(self):
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.held: dict[str, threading.Event] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                if self.path in site.held:
                    site.held[self.path].wait(30)
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def image(self, path: str, file) -> bytes:
        data = file.read_bytes()
        self.pages[path] = ("image/jpeg", data)
        return data

    def page(self, path: str, *images: str) -> str:
        tags = "".join(f'<img src="{src}" alt="">' for src in images)
        self.pages[path] = (
            "text/html; charset=utf-8",
            f"<!doctype html><html><body>{tags}</body></html>".encode(),
        )
        return self.url(path)

    def hold(self, path: str) -> threading.Event:
        self.held[path] = threading.Event()
        return self.held[path]

    def close(self):
        for event in self.held.values():
            event.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    site = Site()
    yield site
    site.close()


@pytest.fixture
def corpus(shared):
    """Benign photographs of unrelated sources (tiles of one source may overlap, so one each)."""
    folder = shared / "corpus" / "natural"
    return {name: folder / f"{name}-00.jpg" for name in ("astronaut", "camera", "coffee", "chelsea")}


@pytest.fixture
def known_bank(make_user):
    """known_bank(*files) -> a bank of confirmed CSAM (purpose and four eyes as in production)
    holding the SHA-256 of each file as baseline, category A; built through banks.services."""
    from openmnr.banks import services as banks
    from openmnr.banks.models import Bank

    def make(*files, name="Confirmed material"):
        admin, analyst = make_user("administrator"), make_user("analyst")
        seniors = make_user("senior_analyst"), make_user("senior_analyst")
        bank = banks.save_bank(
            Bank(name=name, purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]),
            match_accounts=[],
            by=admin,
        )
        for file in files:
            entry = banks.propose_entry(
                bank,
                signal_type="sha256",
                value=hashlib.sha256(file.read_bytes()).hexdigest(),
                classification="baseline",
                category="A",
                by=analyst,
            )
            for senior in seniors:
                banks.confirm_entry(entry, by=senior)
        return bank

    return make


def run_worker():
    """Run every queued task in this process, as `openmnr worker` would, then return."""
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)


@pytest.fixture
def worker():
    return run_worker
