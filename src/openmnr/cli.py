"""The `openmnr` command.

Commands that need the database set Django up first; `hash` runs on openmnr.core alone, so an
industry member can hash files in its own pipeline without a database.
"""

import argparse
import os
import signal
import subprocess
import sys

from openmnr import __version__


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    import django

    django.setup()


def cmd_serve(args) -> int:
    """Serve the web application with gunicorn; with --with-worker, run a task worker beside it."""
    _setup_django()
    from django.core.management import call_command

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


def cmd_worker(args) -> int:
    """Run background tasks (django.tasks with the database backend) and, unless --no-clock,
    the periodic jobs of openmnr.web.clock every minute."""
    import threading

    _setup_django()
    from django.core.management import call_command

    from openmnr.web import clock

    stop = threading.Event()
    if not args.no_clock:
        clock.start(args.clock_seconds, stop)
    try:
        call_command("db_worker", *args.worker_args)
    finally:
        stop.set()
    return 0


def cmd_demo(args) -> int:
    """Create the demo users (one per role) and demo content; safe to run again."""
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from openmnr.web.demo import load_demo

    load_demo(out=sys.stdout)
    return 0


def cmd_manage(args) -> int:
    """Any Django management command, e.g. `openmnr manage migrate`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["openmnr manage", *args.django_args])
    return 0


def cmd_audit(args) -> int:
    _setup_django()
    from openmnr.audit import service

    if args.audit_command == "head":
        seq, digest = service.head()
        print(f"{seq} {digest}")
        return 0
    result = service.verify()
    if result.ok:
        print(f"audit chain intact: {result.events} events, head {result.head_hash}")
        return 0
    print(f"audit chain broken at sequence number {result.broken_seq}: {result.reason}", file=sys.stderr)
    return 1


def cmd_hash(args) -> int:
    from openmnr.core import hashrun

    return hashrun.run(args)


def cmd_referral(args) -> int:
    from openmnr.core import referral

    return referral.run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openmnr", description="OpenMNR command line.")
    parser.add_argument("--version", action="version", version=f"openmnr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="serve the web application (gunicorn)")
    serve.add_argument("--host", default=os.environ.get("OPENMNR_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("OPENMNR_WEB_WORKERS", "2")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("OPENMNR_WEB_THREADS", "4")))
    serve.add_argument("--with-worker", action="store_true", help="also run a task worker")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="run background tasks and the periodic jobs")
    worker.add_argument("--no-clock", action="store_true", help="do not run the periodic jobs")
    worker.add_argument("--clock-seconds", type=float, default=60.0, help="interval of the periodic jobs")
    worker.add_argument("worker_args", nargs=argparse.REMAINDER, help="passed to Django's db_worker")
    worker.set_defaults(func=cmd_worker)

    demo = commands.add_parser("demo", help="load demo users and benign demo content (idempotent)")
    demo.set_defaults(func=cmd_demo)

    manage = commands.add_parser("manage", help="run a Django management command")
    manage.add_argument("django_args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)

    audit = commands.add_parser("audit", help="check the audit log's hash chain")
    audit.add_argument(
        "audit_command",
        choices=["verify", "head"],
        help="verify: walk the chain and name the first broken row; head: print the head hash",
    )
    audit.set_defaults(func=cmd_audit)

    from openmnr.core import hashrun, referral

    hash_parser = commands.add_parser("hash", help="hash image and video files (PDQ, MD5, SHA-256, vPDQ)")
    hashrun.add_arguments(hash_parser)
    hash_parser.set_defaults(func=cmd_hash)

    referral_parser = commands.add_parser("referral", help="check a law-enforcement referral package")
    referral_commands = referral_parser.add_subparsers(dest="referral_command", required=True)
    verify = referral_commands.add_parser("verify", help="check the signature and every digest")
    referral.add_arguments(verify)
    verify.set_defaults(func=cmd_referral)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
