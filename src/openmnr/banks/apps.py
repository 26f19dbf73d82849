from django.apps import AppConfig


class BanksConfig(AppConfig):
    """Banks of confirmed hashes, their curation with four eyes, and the match API."""

    name = "openmnr.banks"
    label = "banks"
