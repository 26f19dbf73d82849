"""``openmnr serve --with-worker`` stops its whole tree on SIGTERM and on SIGINT: the real command
is started, answers on its port, is signalled, and then neither it, nor gunicorn and its workers,
nor the task worker is left running, and nothing answers on the port."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to `pid` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stops_its_whole_tree(tmp_path, signum):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        OPENMNR_AUDIT_KEY=secrets.token_hex(32),
        OPENMNR_VAR_DIR=str(tmp_path / "var"),
        OPENMNR_HTTPS="0",
        OPENMNR_STOP_TIMEOUT="20",
    )
    port = _free_port()
    log = open(tmp_path / "log", "wb")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openmnr.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--with-worker",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert serve.poll() is None, (tmp_path / "log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.5)
        tree = _descendants(serve.pid)
        # gunicorn's master, its two workers and the task worker at least.
        assert len(tree) >= 4, tree
        serve.send_signal(signum)
        assert serve.wait(timeout=60) == 0
        time.sleep(0.5)
        assert not [pid for pid in tree if _alive(pid)], (tmp_path / "log").read_text()[-3000:]
        assert not _answers(port)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
        for pid in _descendants(serve.pid):
            os.kill(pid, signal.SIGKILL)
