"""`openmnr manage bank_import BANK FILE --by USERNAME`: import a hash list too large for an upload.

The same service as the import page (audited as the user given, same four-eyes rule); a web upload
is capped by OPENMNR_MAX_REQUEST_BYTES, which a list of a million hashes exceeds. The passphrase of
an encrypted file is read from the environment variable named by --passphrase-env, never from the
command line (where other users could see it).
"""

import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from openmnr.banks import services
from openmnr.banks.models import Bank, Classification
from openmnr.core import lists


class Command(BaseCommand):
    help = "Import a hash list file into a bank."

    def add_arguments(self, parser):
        parser.add_argument("bank", type=int, help="the bank's id")
        parser.add_argument("file", type=Path)
        parser.add_argument("--by", required=True, help="username of the senior analyst importing")
        parser.add_argument("--format", choices=sorted(lists.READERS), default="local")
        parser.add_argument(
            "--classification", choices=Classification.values, default=Classification.BASELINE
        )
        parser.add_argument("--category", default="")
        parser.add_argument("--source", default="", help="who sent the list")
        parser.add_argument(
            "--passphrase-env", default="", help="environment variable holding the passphrase"
        )

    def handle(self, *args, **options):
        bank = Bank.objects.filter(pk=options["bank"]).first()
        user = get_user_model().objects.filter(username=options["by"]).first()
        if bank is None or user is None:
            raise CommandError("no such bank or user")
        passphrase = os.environ.get(options["passphrase_env"], "") if options["passphrase_env"] else ""
        try:
            batch = services.import_entries(
                bank,
                options["file"].read_bytes(),
                fmt=options["format"],
                by=user,
                classification=options["classification"],
                category=options["category"],
                source_ref=options["source"],
                file_name=options["file"].name,
                passphrase=passphrase,
            )
        except (OSError, services.BankError) as error:
            raise CommandError(str(error)) from None
        state = "active" if batch.activated_at else "awaiting confirmation of the import"
        self.stdout.write(f"read {batch.read} records, added {batch.added} entries ({state})")
