from django.apps import AppConfig


class HotlineConfig(AppConfig):
    """Public reports, triage, the analyst queue and assessment."""

    name = "openmnr.hotline"
    label = "hotline"
