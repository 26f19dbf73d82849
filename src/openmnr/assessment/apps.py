from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    """The MNR self-assessment: cycles, levels, evidence, gaps and the action plan."""

    name = "openmnr.assessment"
    label = "assessment"

    def ready(self):
        from .providers import register_defaults

        register_defaults()
