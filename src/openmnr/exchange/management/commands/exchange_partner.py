"""`openmnr manage exchange_partner add NAME URL KEYFILE [--country XX]`: configure a federation
partner from the command line (the administration site does the same). Audited."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from openmnr.audit import services as audit
from openmnr.exchange.models import Partner


class Command(BaseCommand):
    help = "Add or update a federation partner: its name, base URL, public key file and country."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["add"])
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("key_file")
        parser.add_argument("--country", default="")

    def handle(self, *args, **options):
        try:
            key = Path(options["key_file"]).read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {options['key_file']}: {exc}") from None
        with transaction.atomic():
            partner = Partner.objects.filter(name=options["name"]).first() or Partner(name=options["name"])
            partner.base_url, partner.public_key, partner.country = options["url"], key, options["country"]
            try:
                partner.full_clean()
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
            partner.save()
            audit.record("exchange.partner.add", obj=partner, detail={"key_id": partner.key_id})
        self.stdout.write(f"{partner.name}: key id {partner.key_id}\n")
