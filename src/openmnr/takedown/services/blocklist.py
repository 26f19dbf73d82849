"""What a blocking list may hold: the URLs confirmed illegal whose content is not confirmed removed.

A hotline case assessed illegal is listed from the assessment on, while takedown works on it, and
while it is "removed, watching" (the first miss has not been confirmed yet); it drops off when the
check confirms the removal (``confirmed_at``) and comes back if the content reappears (the check
then clears ``confirmed_at``). A closed case drops off too: nobody checks it any more, and an entry
nobody watches would stay on every licensee's list long after the content is gone. Over-blocking
costs a lawful site its visitors, so the list follows what takedown knows, not what it last knew.
"""

from dataclasses import dataclass
from datetime import datetime

from openmnr.hotline import services as hotline

from ..models import Status, TakedownCase


@dataclass(frozen=True)
class LiveURL:
    case_id: int
    url: str  # the case's canonical URL (openmnr.core.signals.url)
    since: datetime  # when the case was assessed


def live_confirmed_urls() -> list[LiveURL]:
    """Every URL assessed illegal whose content is not confirmed removed, oldest first."""
    found = {
        takedown.pk: LiveURL(takedown.pk, takedown.case.url, takedown.opened_at)
        for takedown in TakedownCase.objects.filter(confirmed_at__isnull=True)
        .exclude(status=Status.CLOSED)
        .select_related("case")
    }
    for case in hotline.cases_to_act_on():  # assessed, not yet opened by the takedown clock
        if case.id not in found and not TakedownCase.objects.filter(pk=case.id).exists():
            found[case.id] = LiveURL(case.id, case.url, case.assessed_at or case.opened_at)
    return sorted(found.values(), key=lambda live: (live.since, live.case_id))
