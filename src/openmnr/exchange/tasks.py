"""Background tasks of the exchange (django.tasks; `openmnr worker` runs them)."""

from django.tasks import task

from . import federation


@task()
def send_federation() -> str:
    """Send the federation messages that are due; enqueued when one commits."""
    return f"delivered {federation.send_due()}"
