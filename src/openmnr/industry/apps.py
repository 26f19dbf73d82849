from django.apps import AppConfig


class IndustryConfig(AppConfig):
    """Industry reports: the CyberTipline-compatible intake at /ispws/, the bulk import, and the
    law-enforcement triage of the reports they bring."""

    name = "openmnr.industry"
    label = "industry"

    def ready(self):
        from .stats import register_indicators

        register_indicators()
