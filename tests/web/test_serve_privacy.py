"""A reporter's address reaches no log and no file: the real server (``openmnr serve``, gunicorn,
production settings) takes a report and a status look-up from 127.0.0.2, then every byte it wrote
(standard output and error, every file under its var/ folder, the SQLite database and its WAL) is
searched for that address. A failed staff sign-in from 127.0.0.3, whose address the audit log does
record, shows that the search would find an address that is there.

SQLite only, whatever DATABASE_URL says: what the server writes does not depend on the database,
and a file can be searched byte by byte.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest

REPORTER = "127.0.0.2"
STAFF = "127.0.0.3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port, method, path, *, source, body=None, cookies=""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    headers = {"Cookie": cookies} if cookies else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("Set-Cookie") or "", response.read().decode()


def _form(port, path, source):
    """GET a form: its CSRF cookie and token, as a browser would hold them."""
    status, set_cookie, html = _request(port, "GET", path, source=source)
    assert status == 200, html[:500]
    cookie = re.search(r"(csrftoken=[^;]+)", set_cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


@pytest.fixture
def server(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=0.1, source_address=(REPORTER, 0)).close()
    except ConnectionRefusedError:
        pass  # the address can be bound: that is all we need
    except OSError as exc:
        pytest.skip(f"this machine cannot send from {REPORTER}: {exc}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        OPENMNR_AUDIT_KEY=secrets.token_hex(32),
        OPENMNR_VAR_DIR=str(tmp_path / "var"),
        OPENMNR_HTTPS="0",
        OPENMNR_LOG_LEVEL="DEBUG",  # the most the server could ever write
    )
    port = _free_port()
    out, err = open(tmp_path / "stdout", "wb"), open(tmp_path / "stderr", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openmnr.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--threads",
            "2",
        ],
        env=env,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _request(port, "GET", "/", source="127.0.0.1")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("the server did not start: " + (tmp_path / "stderr").read_text()[-2000:])
            time.sleep(0.3)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        out.close()
        err.close()


def _everything_written(tmp_path) -> dict[str, bytes]:
    return {
        str(path.relative_to(tmp_path)): path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()
    }


def test_a_report_leaves_the_reporters_address_nowhere(server, tmp_path):
    port = server
    cookie, token = _form(port, "/report/", REPORTER)
    report = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "urls": "https://example.org/reported-page",
            "found_where": "web_page",
            "content_kind": "csam",
            "description": "",
            "email": "",
        }
    )
    status, _, html = _request(port, "POST", "/report/", source=REPORTER, body=report, cookies=cookie)
    assert status == 200, html[:1000]
    code = re.search(r'id="tracking-code">([0-9A-Z-]+)<', html).group(1)
    cookie, token = _form(port, "/report/status/", REPORTER)
    look_up = urlencode({"csrfmiddlewaretoken": token, "code": code})
    assert _request(port, "POST", "/report/status/", source=REPORTER, body=look_up, cookies=cookie)[0] == 200

    # The control: a staff sign-in attempt, whose address the audit log records by design.
    cookie, token = _form(port, "/accounts/sign-in/", STAFF)
    attempt = urlencode(
        {"csrfmiddlewaretoken": token, "username": "nobody", "password": "wrong", "token": ""}
    )
    assert _request(port, "POST", "/accounts/sign-in/", source=STAFF, body=attempt, cookies=cookie)[0] == 400
    time.sleep(0.5)  # let the access log line of the last request reach the file

    written = _everything_written(tmp_path)
    logs = written["stdout"] + written["stderr"]
    assert b'"POST /report/ HTTP/1.1" 200' in logs and b'"POST /report/status/ HTTP/1.1" 200' in logs
    assert any(name.startswith("var/") and name.endswith(".sqlite3") for name in written)
    assert STAFF.encode() in b"".join(data for name, data in written.items() if name.startswith("var/"))
    found = [name for name, data in written.items() if REPORTER.encode() in data]
    assert found == [], f"the reporter's address was written to {found}"
