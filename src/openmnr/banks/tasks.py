"""Background work of the banks app (run by `openmnr worker`)."""

from django.tasks import task

from . import snapshots


@task
def write_snapshot() -> int:
    """Save a fresh index snapshot; returns the change-log seq it reflects."""
    return snapshots.write_snapshot().seq
