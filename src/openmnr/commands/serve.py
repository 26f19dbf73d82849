"""``openmnr serve``: the web application under gunicorn, optionally with a task worker beside it.

The access log goes to standard output without any client address (``_gunicorn.ACCESS_LOG_FORMAT``
and ``AddressFreeLogger``): a reporter's address is written nowhere, and a log line's time cannot be
joined to an address. docs/security.md gives the matching reverse-proxy log format.
"""

import os
import signal
import subprocess
import sys

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
    worker = None
    if args.with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "openmnr.cli", "worker"])
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
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--logger-class",
        "openmnr.commands._gunicorn.AddressFreeLogger",
        "--forwarded-allow-ips",
        os.environ.get("OPENMNR_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    web = subprocess.Popen(command)
    try:
        return web.wait()
    except KeyboardInterrupt:
        web.send_signal(signal.SIGTERM)
        return web.wait()
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
