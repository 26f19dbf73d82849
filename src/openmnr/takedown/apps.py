from django.apps import AppConfig


class TakedownConfig(AppConfig):
    """Hosting traces, notice and takedown, availability monitoring, referrals, removal statistics."""

    name = "openmnr.takedown"
    label = "takedown"
