from django.apps import AppConfig


class BlockingConfig(AppConfig):
    """Blocking and prevention: the URL list licensees receive (signed prefixes, private
    confirmation), the deterrence page with help, and the keyword list for moderation partners."""

    name = "openmnr.blocking"
    label = "blocking"

    def ready(self):
        from .services import register_providers

        register_providers()
