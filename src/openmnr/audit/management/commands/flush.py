"""Django's ``flush``, which empties every table (tests between transactional tests, fresh
installs), made to pass the SQLite triggers that keep the audit table append-only."""

from django.core.management.commands.flush import Command as FlushCommand

from openmnr.audit.triggers import lifted


class Command(FlushCommand):
    def handle(self, **options):
        with lifted(options["database"]):
            return super().handle(**options)
