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
        _run_tasks(call_command, args.worker_args)
    finally:
        stop.set()
    return 0


def _run_tasks(call_command, worker_args) -> None:
    """Django's db_worker, started again when the database goes away under it (a restart, a
    failover): the queue is in the database, so nothing is lost, and the backlog drains once the
    database is back, without anyone restarting the worker. A task the worker held when the
    connection broke is taken again by the next worker that looks (its run was not recorded)."""
    import logging
    import time

    from django.db import InterfaceError, OperationalError, connections

    log = logging.getLogger("openmnr.worker")
    while True:
        try:
            call_command("db_worker", *worker_args)
            return
        except (OperationalError, InterfaceError) as error:
            log.warning("the database cannot be reached (%s); the worker tries again in 5 s", error)
            for connection in connections.all():
                connection.close_if_unusable_or_obsolete()
            time.sleep(5)
