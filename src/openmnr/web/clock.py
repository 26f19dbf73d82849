"""The clock: periodic jobs that `openmnr worker` runs every minute beside the task queue.

Each job is safe to run in several workers at once (the apps take rows with locks or leases), so
a deployment may run several workers without electing a leader, and needs no cron.
"""

import logging
import threading

from django.db import close_old_connections
from django.utils.module_loading import import_string

from openmnr.common.failures import failure

logger = logging.getLogger(__name__)

JOBS = [
    "openmnr.hotline.tasks.resume_stalled",  # re-enqueue triage that a killed worker left behind
    "openmnr.hotline.tasks.hold_timeouts",  # unanswered law-enforcement holds, holds due for review
    "openmnr.takedown.hold_referrals.clock_job",  # held cases: the referral first; due review reminders
    "openmnr.takedown.services.tick",  # trace, notify and check every takedown case that is due
    "openmnr.blocking.services.partner_schedule.clock_job",  # partners' URL-list exports that are due
    "openmnr.blocking.services.clock_job",  # a new URL list version when cases were assessed or removed
    "openmnr.industry.lifecycle.expire_open_reports",  # unfinished industry reports past their time
    "openmnr.exchange.sync.clock_job",  # an ICCAM cycle when configured; federation messages due
    "openmnr.accounts.ratelimit.sweep",  # delete ended rate windows: public counters and their keys
    "openmnr.audit.checkpoints.tick",  # a signed checkpoint of the audit chain's head, outside the database
]


def run_jobs() -> None:
    for path in JOBS:
        try:
            import_string(path)()
        except Exception as exc:
            logger.error("periodic job %s failed; it runs again at the next tick: %s", path, failure(exc))
        finally:
            close_old_connections()


def start(interval_seconds: float, stop: threading.Event) -> threading.Thread:
    def loop():
        while not stop.is_set():
            run_jobs()
            stop.wait(interval_seconds)

    thread = threading.Thread(target=loop, name="openmnr-clock", daemon=True)
    thread.start()
    return thread
