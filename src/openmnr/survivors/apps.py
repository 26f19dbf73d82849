from django.apps import AppConfig


class SurvivorsConfig(AppConfig):
    """The Take it down page: survivors hash their own pictures in the browser; platforms match
    the hashes and report what they did; the person follows or withdraws the case with a code."""

    name = "openmnr.survivors"
    label = "survivors"

    def ready(self):
        from .indicators import register_providers

        register_providers()
