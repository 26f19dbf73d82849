from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live-alert cases: what the live-stream monitor (``openmnr.core.live``) found, as analysts
    see and work them; ``openmnr live serve`` records them here and sends the signed webhook."""

    name = "openmnr.live"
    label = "live"
    default_auto_field = "django.db.models.BigAutoField"
