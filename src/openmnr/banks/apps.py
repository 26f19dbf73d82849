from django.apps import AppConfig


class BanksConfig(AppConfig):
    """Banks of confirmed hashes, their curation with four eyes, and the match API."""

    name = "openmnr.banks"
    label = "banks"

    def ready(self):
        # Hashing uploads decodes them in openmnr.core's decoder processes: how many wait is a setting.
        from django.conf import settings

        from openmnr.core import decoders

        decoders.configure(idle=settings.DECODERS_IDLE)
