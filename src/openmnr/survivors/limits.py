"""Rate limits of the Take it down page.

Per address, counted through the hotline's public counters (``hotline.services.allow_public``), which
never write the address anywhere: new cases and submissions per day, status look-ups and
withdrawals per hour. Per case, counted from the case's own rows: items in all, items added in
the last day. A refusal is a ``TooMany`` with a plain explanation, and is tallied for the activity
page (a flood shows there).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from openmnr.hotline import services as hotline

from . import activity
from .errors import TooMany
from .models import Case, Tally

DAY = 24 * 3600
HOUR = 3600


def _refuse(message: str) -> None:
    activity.count(Tally.Kind.RATE_LIMITED)
    raise TooMany(message)


def submission(request, *, new_case: bool) -> None:
    """Count one submission from this address (and one new case if it opens one). Without a
    request (the demo, a command) there is no address to count."""
    if request is None:
        return
    if new_case and not hotline.allow_public(
        request, "survivors-case", limit=settings.SURVIVORS_CASES_PER_DAY, window_seconds=DAY
    ):
        _refuse(
            _(
                "Too many new cases came from your network today. Please try again tomorrow, or add your pictures to the case you already opened."
            )
        )
    if not hotline.allow_public(
        request, "survivors-submission", limit=settings.SURVIVORS_SUBMISSIONS_PER_DAY, window_seconds=DAY
    ):
        _refuse(_("Too many submissions came from your network today. Please try again tomorrow."))


def lookup(request) -> None:
    """Count one status look-up or withdrawal from this address."""
    if request is None:
        return
    if not hotline.allow_public(
        request, "survivors-lookup", limit=settings.SURVIVORS_LOOKUPS_PER_HOUR, window_seconds=HOUR
    ):
        _refuse(_("Too many attempts came from your network in the last hour. Please try again later."))


def case_items(case: Case, adding: int) -> None:
    """Refuse ``adding`` more items when the case would pass its limits."""
    total = case.items.count()
    if total + adding > settings.SURVIVORS_ITEMS_PER_CASE:
        _refuse(
            _("A case can hold at most %(limit)s pictures and videos, and yours has %(count)s.")
            % {"limit": settings.SURVIVORS_ITEMS_PER_CASE, "count": total}
        )
    today = case.items.filter(added_at__gte=timezone.now() - timedelta(days=1)).count()
    if today + adding > settings.SURVIVORS_ITEMS_PER_CASE_PER_DAY:
        _refuse(
            _(
                "You can add at most %(limit)s pictures and videos to a case in one day. Please add the rest tomorrow."
            )
            % {"limit": settings.SURVIVORS_ITEMS_PER_CASE_PER_DAY}
        )
