"""Two OpenMNR instances on two 127.0.0.1 ports, each a real `openmnr serve` with its own worker
and its own SQLite database: a case forwarded from A appears in B's queue with its classification,
B's removal appears on A's timeline, and a tampered or replayed message is refused and audited."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.exchange import federation as protocol
from openmnr.core.exchange import federation_body as bodies

from .conftest import Site, write_key

SRC = Path(__file__).resolve().parents[2] / "src"
# A long-lived Python beside each instance, with its settings and database: each line it reads is
# code to run, and it answers one line of JSON (what the code printed last, or the error).
SHELL = """
import contextlib, io, json, sys, traceback
import django
django.setup()
from django.db import close_old_connections
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(json.loads(line), {"json": json})
        answer = {"printed": out.getvalue()}
    except Exception:
        answer = {"error": traceback.format_exc()}
    close_old_connections()
    print(json.dumps(answer), flush=True)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Instance:
    def __init__(self, name: str, folder: Path, country: str):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.key = Ed25519PrivateKey.generate()
        folder.mkdir()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OPENMNR_", "DJANGO_")) and key not in ("DATABASE_URL", "PYTEST_VERSION")
        }
        self.env.update(
            PYTHONPATH=str(SRC),
            DJANGO_SETTINGS_MODULE="openmnr.web.settings",
            SECRET_KEY="two-instance-test-" + "k" * 40 + name,
            OPENMNR_VAR_DIR=str(folder),
            OPENMNR_HTTPS="0",
            OPENMNR_AUDIT_KEY=secrets.token_hex(32),
            OPENMNR_HOME_COUNTRY=country,
            OPENMNR_FEDERATION_SIGNING_KEY=str(write_key(folder / "federation.pem", self.key)),
            OPENMNR_FEDERATION_ALLOW_HTTP="127.0.0.1",
            OPENMNR_FETCH_ALLOW_PRIVATE="127.0.0.1",
            OPENMNR_LOG_LEVEL="WARNING",
        )
        self.public_pem = folder / "federation.pub"
        self.public_pem.write_text(protocol.public_key_pem(self.key.public_key()))
        self.processes: list[subprocess.Popen] = []
        self.log = open(folder / "log.txt", "wb")  # noqa: SIM115 - closed in stop()

    def spawn(self) -> None:
        self._spawn("serve", "--port", str(self.port), "--workers", "1", "--threads", "4")

    def wait_ready(self) -> None:
        """The server answers (it migrated its database first); then the worker and the shell."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError(f"{self.name} did not start: {self.read_log()}")
        self._spawn("worker", "--no-clock")
        self.shell = subprocess.Popen(
            [sys.executable, "-u", "-c", SHELL],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.processes.append(self.shell)
        assert json.loads(self.shell.stdout.readline()) == {"ready": True}

    def _spawn(self, *args) -> None:
        self.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "openmnr.cli", *args], env=self.env, stdout=self.log, stderr=self.log
            )
        )

    def python(self, code: str):
        """Run `code` with this instance's settings and database; it prints one JSON value."""
        self.shell.stdin.write(json.dumps(code) + "\n")
        self.shell.stdin.flush()
        answer = json.loads(self.shell.stdout.readline())
        if "error" in answer:
            raise AssertionError(f"{self.name}: {answer['error'][-3000:]}")
        return json.loads(answer["printed"].strip().splitlines()[-1])

    def wait_for(self, code: str, what: str, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.python(code)
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"{self.name}: {what} did not happen in {seconds} s\n{self.read_log()}")

    def read_log(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if getattr(self, "shell", None) is not None:
            self.shell.stdin.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.log.close()


@pytest.fixture
def instances(tmp_path, shared):
    a, b = Instance("A", tmp_path / "a", "PT"), Instance("B", tmp_path / "b", "BR")
    site = Site()
    try:
        for instance in (a, b):
            instance.spawn()  # both migrate and start at the same time
        for instance in (a, b):
            instance.wait_ready()
        for here, there in ((a, b), (b, a)):
            country = "BR" if there is b else "PT"
            here.python(
                "from django.core.management import call_command\n"
                f"call_command('exchange_partner', 'add', 'Hotline {there.name}', '{there.url}', "
                f"'{there.public_pem}', '--country', '{country}')\nprint('true')"
            )
        image = sorted((shared / "corpus" / "natural").glob("*.jpg"))[0].read_bytes()
        yield a, b, site.page_with_image("/gallery", "/photo.jpg", image)
    finally:
        site.close()
        a.stop()
        b.stop()


def test_forward_removal_and_refusals_between_two_instances(instances):
    a, b, url = instances
    # A: a public report, assessed baseline, hosted in B's country: routing hands it to the network.
    case_a = a.python(
        "from django.utils import timezone\n"
        "from openmnr.hotline import cases, intake\n"
        "from openmnr.hotline.states import State\n"
        "from openmnr.exchange import services\n"
        f"s = intake.receive_public(intake.ReportInput(urls=[{url!r}]), is_demo=True)\n"
        "case = s.urls.get().case\n"
        "cases.transition(case.pk, State.TRIAGED, reason='test')\n"
        "cases.transition(case.pk, State.ASSESSED, reason='test', assessment='baseline', category='A',"
        " age_group='prepubescent', assessed_at=timezone.now())\n"
        "assert services.forward(case.pk, hosting={'country': 'BR', 'ip': '192.0.2.5'}) == 'federation'\n"
        "print(case.pk)"
    )

    # B: the case is in its queue (triaged by its own worker), with A's classification beside it.
    found = b.wait_for(
        "from openmnr.exchange.models import FederatedCase\n"
        "f = FederatedCase.objects.filter(direction='inbound').select_related('case').first()\n"
        "print(json.dumps(f and f.case.state == 'triaged' and"
        " [f.case_id, f.case.url, f.remote_reference, f.classification, f.partner.name]))",
        "the forwarded case in B's queue",
    )
    case_b, case_url, reference, classification, sender = found
    assert case_url == url and reference == str(case_a) and sender == "Hotline A"
    assert classification == {
        "assessment": "baseline",
        "category": "A",
        "age_group": "prepubescent",
        "gender": "",
        "flags": None,
    }
    # A hears that B received it.
    a.wait_for(
        "from openmnr.exchange.models import NetworkEvent\n"
        f"print(json.dumps(NetworkEvent.objects.filter(case_id={case_a}, action='received').exists()))",
        "B's 'received' on A's timeline",
    )

    # B removes it; A's timeline shows the removal, as removed through the network.
    b.python(
        "from openmnr.exchange import services\n"
        f"print(services.record_action({case_b}, 'removed', note='host took it down'))"
    )
    text = a.wait_for(
        "from openmnr.exchange.models import NetworkEvent\n"
        f"e = NetworkEvent.objects.filter(case_id={case_a}, action='removed').first()\n"
        "print(json.dumps(e and e.text))",
        "B's removal on A's timeline",
    )
    assert text == "Hotline B: Removed (host took it down)"

    # A message signed with A's key, then tampered with, then replayed: both refused and audited.
    body = bodies.forward_body(
        case="999",
        url="https://other.example/page",
        reported_at=datetime.now(UTC),
        classification=bodies.classification("nationally_illegal", category="B", age_group="pubescent"),
        hosting={"country": "BR"},
        items=[],
    )
    recipient = protocol.key_id(b.key.public_key())
    data, signature = protocol.seal("case.forward", body, private_key=a.key, recipient=recipient)
    inbox = b.url + protocol.INBOX_PATH
    headers = {protocol.SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
    tampered = httpx.post(inbox, content=data.replace(b"other.example", b"0ther.example"), headers=headers)
    assert tampered.status_code == 401 and tampered.json()["reason"] == "bad_signature"
    assert httpx.post(inbox, content=data, headers=headers).status_code == 202
    replayed = httpx.post(inbox, content=data, headers=headers)
    assert replayed.status_code == 409 and replayed.json()["reason"] == "replayed"
    audit = b.python(
        "from openmnr.audit.models import AuditEvent\n"
        "from openmnr.hotline.models import Case\n"
        "refused = [e.detail['reason'] for e in AuditEvent.objects.filter("
        "action='exchange.federation.refuse').order_by('seq')]\n"
        "print(json.dumps([refused, Case.objects.filter(url__contains='ther.example').count()]))"
    )
    assert audit == [["bad_signature", "replayed"], 1]
