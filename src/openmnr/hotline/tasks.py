"""Background tasks of the hotline (django.tasks; `openmnr worker` runs them)."""

from django.tasks import task

from . import triage


@task()
def triage_case(case_id: int) -> str:
    """Fetch, hash and match one case's media; safe to run again or twice at once (see triage.py)."""
    return triage.run(case_id)
