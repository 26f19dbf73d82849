"""`openmnr manage bank_snapshot`: save a fresh match-index snapshot for processes that start later.

Run it after large imports (a queued task does so when a worker runs) or daily from cron; it also
prunes change-log rows older than a day that the snapshot covers.
"""

from django.core.management.base import BaseCommand

from openmnr.banks import snapshots


class Command(BaseCommand):
    help = "Save a fresh match-index snapshot under VAR_DIR/index/."

    def handle(self, *args, **options):
        indices = snapshots.write_snapshot()
        self.stdout.write(f"snapshot at change-log seq {indices.seq}: {indices.count()} values")
