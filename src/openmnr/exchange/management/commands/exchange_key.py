"""`openmnr manage exchange_key`: print our federation public key and its id, to give to a partner."""

from django.core.management.base import BaseCommand, CommandError

from openmnr.exchange import config


class Command(BaseCommand):
    help = "Print this instance's federation public key (PEM) and key id."

    def handle(self, *args, **options):
        try:
            self.stdout.write(config.own_public_key_pem())
            self.stdout.write(f"key id: {config.own_key_id()}\n")
        except config.NotConfigured as exc:
            raise CommandError(str(exc)) from None
