"""Background tasks of the takedown app (django.tasks; `openmnr worker` runs them)."""

from django.tasks import task

from . import services


@task()
def tick() -> str:
    """Work every takedown case that is due; the same as `openmnr manage takedown_tick`."""
    result = services.tick()
    return f"opened {result.opened}, worked {result.processed}, failed {result.failed}"
