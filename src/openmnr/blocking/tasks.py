"""Background work of the blocking app (django.tasks; `openmnr worker` runs it).

A person's "fetch now" of a partner's list is queued here rather than run in the web request
(``partner_schedule.queue_fetch``): the fetch may wait 30 seconds on the partner.
"""

from django.contrib.auth import get_user_model
from django.tasks import task

from .errors import BlockingError
from .models import PartnerList
from .services import partner_schedule


@task()
def fetch_partner_list(partner_id: int, user_id: int) -> str:
    """Fetch a partner's export as the person who asked (their permission is checked again now;
    the import and any refusal are audited under their name). The outcome goes on the row."""
    partner = PartnerList.objects.filter(pk=partner_id).first()
    user = get_user_model().objects.filter(pk=user_id).first()
    if partner is None:
        return "the partner list is gone"
    try:
        outcome = partner_schedule.fetch_now(partner, by=user)
    except BlockingError as refused:  # no longer allowed, removed, the partner's wait, a fetch under way
        PartnerList.objects.filter(pk=partner_id).update(fetch_queued_at=None)
        return f"not fetched: {refused}"
    return ("imported: " if outcome.ok else "failed: ") + outcome.message
