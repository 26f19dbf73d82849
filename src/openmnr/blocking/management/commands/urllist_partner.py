"""An administrator's command for partners' URL lists (services.partners does the work and audits).

openmnr manage urllist_partner add NAME --kind openmnr --url URL --public-key partner.pem \
    [--api-key-variable OPENMNR_PARTNER_KEY_NAME] [--min-wait SECONDS] [--redistribute]
openmnr manage urllist_partner add NAME --kind file [--redistribute]
openmnr manage urllist_partner fetch NAME        (as the worker's clock does, outcome on the row)
openmnr manage urllist_partner import-file NAME list.txt
openmnr manage urllist_partner list
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from openmnr.blocking.errors import BlockingError
from openmnr.blocking.models import PartnerList
from openmnr.blocking.services import partner_schedule, partners


class Command(BaseCommand):
    help = "Register partners' URL lists and import them (the licence decides what is published)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add")
        add.add_argument("name")
        add.add_argument("--kind", choices=PartnerList.Kind.values, required=True)
        add.add_argument("--url", default="")
        add.add_argument("--public-key", type=Path)
        add.add_argument(
            "--api-key-variable", default="", help="environment variable with our key at the partner"
        )
        add.add_argument(
            "--min-wait", type=int, default=0, help="the partner's minimum wait between fetches (seconds)"
        )
        add.add_argument(
            "--redistribute", action="store_true", help="the licence lets us publish its entries"
        )
        sub.add_parser("fetch").add_argument("name")
        load = sub.add_parser("import-file")
        load.add_argument("name")
        load.add_argument("path", type=Path)
        sub.add_parser("list")

    def handle(self, *args, action, **options):
        try:
            if action == "add":
                pem = options["public_key"].read_text() if options["public_key"] else ""
                partner = partners.register(
                    options["name"],
                    options["kind"],
                    redistribute=options["redistribute"],
                    source_url=options["url"],
                    public_key_pem=pem,
                    api_key_variable=options["api_key_variable"],
                    min_wait_seconds=options["min_wait"],
                )
                self.stdout.write(f"registered {partner.name} (redistribute: {partner.redistribute})")
            elif action == "list":
                for partner in PartnerList.objects.filter(active=True).order_by("name"):
                    self.stdout.write(
                        f"{partner.name}\t{partner.kind}\tversion {partner.version}\t"
                        f"{partner.entries.count()} entries\tredistribute: {partner.redistribute}"
                        + (f"\tlast error: {partner.last_error}" if partner.last_error else "")
                    )
            else:
                partner = PartnerList.objects.filter(name=options["name"], active=True).first()
                if partner is None:
                    raise CommandError(f"no partner list named {options['name']!r}")
                if action == "fetch":
                    # As the clock fetches: under its lease, the outcome written on the row (an
                    # operator's command does not wait for the partner's not-before time).
                    outcome = partner_schedule.fetch_and_record(partner)
                    if not outcome.ok:
                        raise CommandError(f"{partner.name}: {outcome.message}")
                    counts = outcome.counts
                else:
                    counts = partners.import_file(partner, options["path"].read_text(encoding="utf-8"))
                self.stdout.write(
                    f"{partner.name}: {counts['count']} entries, +{counts['added']} -{counts['removed']}"
                )
        except (BlockingError, OSError) as error:
            raise CommandError(str(error)) from None
