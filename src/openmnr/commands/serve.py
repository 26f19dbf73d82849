"""``openmnr serve``: the web application under gunicorn, optionally with a task worker beside it.

The access log goes to standard output without any client address (``_gunicorn.ACCESS_LOG_FORMAT``
and ``AddressFreeLogger``): a reporter's address is written nowhere, and a log line's time cannot be
joined to an address. docs/security.md gives the matching reverse-proxy log format.

Stopping: SIGTERM or SIGINT (Ctrl-C) to ``openmnr serve`` stops its whole tree. The web server and
the worker run in sessions of their own, so a terminal's Ctrl-C reaches only this process, which
then asks each child to stop with SIGTERM: gunicorn finishes the requests it is serving (its
graceful timeout) and the worker the task it is running. Whatever is still alive after
``OPENMNR_STOP_TIMEOUT`` seconds is killed with its whole process group, so no gunicorn worker is
left answering on the port. If one child ends by itself, the other is stopped the same way and the
command ends with the first one's status.
"""

import os
import signal
import subprocess
import sys
import threading
import time

from . import setup_django

HELP = "serve the web application (gunicorn)"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default=os.environ.get("OPENMNR_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("OPENMNR_WEB_WORKERS", "2")))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OPENMNR_WEB_THREADS", "4")))
    parser.add_argument("--with-worker", action="store_true", help="also run a task worker")


def run(args) -> int:
    setup_django()
    from django.core.management import call_command

    from ._gunicorn import ACCESS_LOG_FORMAT

    call_command("migrate", interactive=False, verbosity=0)
    timeout = float(os.environ.get("OPENMNR_STOP_TIMEOUT", "30"))
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    # One waiting decoder per thread of a gunicorn process: with fewer, concurrent uploads start
    # decoders that exit as soon as they have answered (a fork and the page faults of a fresh
    # process per upload, which the pool exists to avoid). The operator's own setting wins.
    os.environ.setdefault("OPENMNR_DECODERS_IDLE", str(max(1, args.threads)))
    children = []
    if args.with_worker:
        children.append(_start([sys.executable, "-m", "openmnr.cli", "worker"]))
    bind = f"{args.host}:{args.port}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "openmnr.web.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--graceful-timeout",
        str(max(1, int(timeout) - 1)),
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--logger-class",
        "openmnr.commands._gunicorn.AddressFreeLogger",
        "--forwarded-allow-ips",
        os.environ.get("OPENMNR_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    web = _start(command)
    children.insert(0, web)
    ended = None
    while not stop.is_set() and ended is None:
        ended = next((child for child in children if child.poll() is not None), None)
        stop.wait(0.5)
    _stop_all(children, timeout)
    return 0 if ended is None else (ended.returncode or 0)


def _start(command: list[str]) -> subprocess.Popen:
    # A session of its own: a terminal's Ctrl-C reaches only this process, which stops the child.
    return subprocess.Popen(command, start_new_session=True)


def _stop_all(children: list[subprocess.Popen], timeout: float) -> None:
    """SIGTERM to every child still running, then up to `timeout` seconds for all of them to
    finish; a child still alive then is killed with its process group (gunicorn's workers too)."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:
        try:
            os.killpg(child.pid, signal.SIGKILL)  # its group: whatever it left behind
        except (ProcessLookupError, PermissionError):
            pass
        if child.poll() is None:
            child.wait()
