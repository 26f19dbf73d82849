"""Background work of the survivors app (run by `openmnr worker`)."""

from django.tasks import task

from . import contact


@task
def notify_case(case_id: int) -> bool:
    """E-mail the case's contact, if any, that there is news (at most once a day)."""
    return contact.notify(case_id)
