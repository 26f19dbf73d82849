"""Background work of the hotline (django.tasks; `openmnr worker` runs it): when triage runs.

Triage itself (triage.py) never enqueues. This module enqueues it for new cases (intake calls
`enqueue_triage` inside the report's transaction), runs it again later when the address may answer
then (`triage.TryAgain`, with a growing delay), and resumes cases whose triage stopped showing
signs of life (`resume_stalled`, a job of the worker's clock, see openmnr.web.clock).
"""

from datetime import timedelta

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from . import holds, triage


@task()
def triage_case(case_id: int) -> str:
    """Fetch, hash and match one case's media; safe to run again or twice at once (see triage.py)."""
    try:
        return triage.run(case_id)
    except triage.TryAgain as again:
        triage_case.using(run_after=timezone.now() + again.delay).enqueue(case_id)
        return f"will try again in {again.delay}: {again}"


@task()
def triage_new_cases(case_ids: list[int]) -> str:
    """Queue the triage of each case a batch of reports opened (batch.py): one task row written
    with the batch instead of one per case, fanned out here in one transaction. Run twice, it
    queues each triage twice, which triage tolerates (see triage.py)."""
    with transaction.atomic():
        for case_id in case_ids:
            triage_case.enqueue(case_id)
    return f"queued the triage of {len(case_ids)} cases"


def enqueue_triage_many(case_ids: list[int]) -> None:
    """`enqueue_triage` for the cases of a batch, inside the caller's transaction."""
    if case_ids:
        triage_new_cases.enqueue(list(case_ids))


def enqueue_triage(case_id: int) -> None:
    """Queue the triage of a new case; inside the caller's transaction, so a worker sees the task
    only once the case has committed."""
    triage_case.enqueue(case_id)


def resume_stalled(older_than: timedelta | None = None) -> int:
    """Re-enqueue triage for cases still `received` with no sign of life for `older_than`
    (default OPENMNR_HOTLINE_STALLED_MINUTES); returns how many."""
    case_ids = triage.stalled(older_than)
    for case_id in case_ids:
        triage_case.enqueue(case_id)
    return len(case_ids)


def hold_timeouts() -> dict[str, int]:
    """The clock's job for law-enforcement holds: unanswered holds follow their rule, kept holds
    past their review date are marked due (holds.due)."""
    return holds.due()
