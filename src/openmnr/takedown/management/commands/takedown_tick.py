"""Work every takedown case that is due now: open newly assessed cases, trace, notify, check.

`openmnr worker` already does this every minute (its clock, openmnr.web.clock), so a deployment
needs no cron job. This command is for an operator who wants a tick now, or a deployment that runs
no worker (`--every 60` keeps it going). Several ticks at once are safe: each case is taken by one.
"""

import time

from django.core.management.base import BaseCommand

from openmnr.takedown import services


class Command(BaseCommand):
    help = "Open, trace, notify and check every takedown case that is due."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=int, default=0, help="Run again every this many seconds (default: once)."
        )

    def handle(self, *args, every=0, **options):
        while True:
            result = services.tick()
            self.stdout.write(
                f"takedown: opened {result.opened}, worked {result.processed}, failed {result.failed}"
            )
            if every <= 0:
                return
            time.sleep(every)
