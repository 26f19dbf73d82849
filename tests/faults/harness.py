"""The pieces of the fault suite: a PostgreSQL of its own, the platform's processes, partner load.

``Postgres`` runs ``initdb`` into a fresh folder and serves it on a free port of 127.0.0.1, never
the machine's shared server (as root, it runs as the ``postgres`` account, which PostgreSQL
requires). ``Platform`` starts what a deployment runs: ``openmnr serve --workers 2`` (gunicorn; its
master replaces a killed web worker) and two ``openmnr worker`` processes (replaced here when
killed, as systemd's ``Restart=always`` would). ``Partners`` are client threads filing reports
singly and in batches, each with its Idempotency-Key, and retrying a report until it is
acknowledged, as a partner's client must: every id the platform acknowledged is recorded.
"""

import http.client
import http.server
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("OPENMNR_PG_BIN", "/usr/lib/postgresql/15/bin"))
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="openmnr-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                "fsync = on\nmax_connections = 100\n"
            )

    def _run(self, *command) -> None:
        subprocess.run([*self.as_postgres, *map(str, command)], check=True, capture_output=True)

    def start(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "log", "-w", "start")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, database: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        return self.url(database)

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


class NotFoundSite:
    """A web site on 127.0.0.1 that answers 404 to everything: what the reported URLs point at,
    so triage runs to its end without the network."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Platform:
    def __init__(self, database_url: str, var_dir: Path, site_port: int):
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="openmnr.web.settings",
            DATABASE_URL=database_url,
            SECRET_KEY=secrets.token_urlsafe(50),
            OPENMNR_AUDIT_KEY=secrets.token_hex(32),
            OPENMNR_VAR_DIR=str(var_dir),
            OPENMNR_HTTPS="0",
            OPENMNR_LOG_LEVEL="ERROR",
            OPENMNR_FETCH_ALLOW_PRIVATE="127.0.0.1",
            OPENMNR_HOTLINE_STALLED_MINUTES="1",
            OPENMNR_HOTLINE_FETCH_ATTEMPTS="1",
        )
        self.port = free_port()
        self.site_port = site_port
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def python(self, script: str, stdin: str = "") -> str:
        done = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + script],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    def prepare(self) -> str:
        return self.python(
            "from django.core.management import call_command\n"
            "call_command('migrate', interactive=False, verbosity=0)\n"
            "from django.contrib.auth import get_user_model\n"
            "from django.contrib.auth.models import Group\n"
            "from openmnr.accounts import apikeys\n"
            "owner = get_user_model().objects.create_user('fault-partner')\n"
            "owner.groups.add(Group.objects.get(name='partner_hotline'))\n"
            "owner = get_user_model().objects.get(pk=owner.pk)\n"
            "_, text = apikeys.create_api_key(owner=owner, name='faults', scopes=['hotline.submit_report'],"
            " rate_limit_per_minute=100_000_000)\n"
            "print(text)\n"
        ).splitlines()[-1]

    def start(self) -> None:
        self.web = subprocess.Popen(
            [
                str(BIN / "openmnr"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "2",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.workers = [self._worker() for _ in range(2)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not start")

    def _worker(self) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "openmnr"), "worker", "--clock-seconds", "5"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def web_workers(self) -> list[int]:
        import psutil

        # openmnr serve -> the gunicorn master -> its workers: only the workers are killed (the
        # master is what replaces them; a deployment's service manager restarts the master).
        return [
            worker.pid for master in psutil.Process(self.web.pid).children() for worker in master.children()
        ]

    def kill_web_worker(self) -> bool:
        pids = self.web_workers()
        if not pids:
            return False
        os.kill(random.choice(pids), signal.SIGKILL)
        return True

    def kill_task_worker(self) -> None:
        """kill -9 one task worker and start another, as the service manager would."""
        index = random.randrange(len(self.workers))
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()
        self.workers[index] = self._worker()

    def stop(self) -> None:
        for process in [self.web, *self.workers]:
            if process is None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()


@dataclass
class Tally:
    acknowledged: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> report id
    urls: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> its URL
    statuses: dict[int, int] = field(default_factory=dict)
    unavailable_without_retry_after: int = 0
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


class Partners:
    """Client threads filing reports until told to stop; a report in flight is retried, with its
    Idempotency-Key, until it is acknowledged or `give_up` passes."""

    def __init__(self, port: int, key: str, site_port: int, clients: int = 4, batch_size: int = 10):
        self.port, self.key, self.site_port = port, key, site_port
        self.clients, self.batch_size = clients, batch_size
        self.tally = Tally()
        self.stopping = threading.Event()
        self.give_up = float("inf")
        self.run_id = secrets.token_hex(3)
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self, finish_within: float) -> None:
        self.give_up = time.monotonic() + finish_within
        self.stopping.set()
        for thread in self.threads:
            thread.join(finish_within + 30)

    def _client(self, number: int) -> None:
        sequence = 0
        while not self.stopping.is_set():
            sequence += 1
            keys = [
                f"{self.run_id}-{number}-{sequence}-{n}"
                for n in range(self.batch_size if sequence % 2 else 1)
            ]
            for key in keys:
                self.tally.urls[key] = f"http://127.0.0.1:{self.site_port}/{key}"
            self._until_acknowledged(keys)

    def _until_acknowledged(self, keys: list[str]) -> None:
        pending = list(keys)
        while pending and time.monotonic() < self.give_up:
            try:
                pending = self._send(pending)
            except (OSError, http.client.HTTPException):
                with self.tally.lock:
                    self.tally.connection_errors += 1
                time.sleep(0.2)
                continue
            if pending:
                time.sleep(0.5)

    def _send(self, keys: list[str]) -> list[str]:
        """Send the reports (one alone, or several as a batch); return the keys not yet acknowledged."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        batch = len(keys) > 1
        try:
            if batch:
                reports = [{"idempotency_key": k, "urls": [self.tally.urls[k]], "reference": k} for k in keys]
                conn.request("POST", "/api/v1/reports/batch", json.dumps({"reports": reports}), headers)
            else:
                body = {"urls": [self.tally.urls[keys[0]]], "reference": keys[0]}
                conn.request(
                    "POST", "/api/v1/reports", json.dumps(body), {**headers, "Idempotency-Key": keys[0]}
                )
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        self.tally.saw(response.status)
        if response.status == 503 and not response.getheader("Retry-After"):
            with self.tally.lock:
                self.tally.unavailable_without_retry_after += 1
        if not batch:
            if response.status in (200, 202):
                with self.tally.lock:
                    self.tally.acknowledged[keys[0]] = json.loads(payload)["id"]
                return []
            return keys
        if response.status != 200:
            return keys
        left = []
        for key, answer in zip(keys, json.loads(payload)["results"], strict=True):
            if answer["status"] in (200, 202):
                with self.tally.lock:
                    self.tally.acknowledged[key] = answer["id"]
            else:
                self.tally.saw(1000 + answer["status"])  # one report of a batch refused: counted, sent again
                left.append(key)
        return left
