"""``openmnr worker``: background tasks (django.tasks, database backend) and the periodic jobs."""

import argparse

from . import setup_django

HELP = "run background tasks and the periodic jobs"


def add_arguments(parser) -> None:
    parser.add_argument("--no-clock", action="store_true", help="do not run the periodic jobs")
    parser.add_argument("--clock-seconds", type=float, default=60.0, help="interval of the periodic jobs")
    parser.add_argument("worker_args", nargs=argparse.REMAINDER, help="passed to Django's db_worker")


def run(args) -> int:
    """Run tasks and, unless --no-clock, the jobs of openmnr.web.clock every minute."""
    import threading

    setup_django()
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
