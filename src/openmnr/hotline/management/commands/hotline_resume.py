"""Restart triage that stopped: a killed worker, or an enqueue lost after its report committed.

The worker's clock (`openmnr worker`) already runs this every minute; the command is for an operator
who wants it now.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand

from openmnr.hotline.tasks import resume_stalled


class Command(BaseCommand):
    help = "Re-enqueue triage for received cases whose triage shows no sign of life."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=None,
            help="How long without progress counts as stalled (default OPENMNR_HOTLINE_STALLED_MINUTES).",
        )

    def handle(self, *args, older_than_minutes=None, **options):
        older_than = timedelta(minutes=older_than_minutes) if older_than_minutes is not None else None
        count = resume_stalled(older_than)
        self.stdout.write(f"re-enqueued triage for {count} case(s)")
