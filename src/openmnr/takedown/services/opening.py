"""Opening a takedown: every hotline case assessed illegal gets one, at its assessment."""

from datetime import datetime

from django.db import IntegrityError, transaction

from openmnr.core.takedown.schedule import CaseState
from openmnr.hotline import services as hotline

from ..models import EventKind, TakedownCase
from . import timeline


def open_assessed(now: datetime) -> int:
    """Start takedown for every hotline case assessed illegal that has none yet; returns how many.

    The tick calls this first, so a case assessed between two ticks is picked up within a minute."""
    waiting = hotline.cases_to_act_on()
    started = set(
        TakedownCase.objects.filter(pk__in=[case.id for case in waiting]).values_list("pk", flat=True)
    )
    return sum(open_case(case.id, now) is not None for case in waiting if case.id not in started)


def open_case(case_id: int, now: datetime) -> TakedownCase | None:
    """The takedown of hotline case `case_id`, opened at its assessment; None if another tick
    opened it first."""
    case = hotline.case_summary(case_id)
    # A case held for the police starts at its release, on the normal cadence (hotline/holds.py).
    opened_at = min(case.released_at or case.assessed_at or now, now)
    state = CaseState(opened_at=opened_at, known_material=case.has_known_match)
    try:
        with transaction.atomic():
            takedown = TakedownCase.objects.create(
                case_id=case.id,
                known_material=case.has_known_match,
                schedule=state.to_dict(),
                next_due_at=opened_at,
                opened_at=opened_at,
            )
            when = (
                "first notice at once (known material)"
                if case.has_known_match
                else "first notice after the delay"
            )
            timeline.event(takedown, now, EventKind.OPENED, f"assessed illegal; {when}")
    except IntegrityError:
        return None
    return takedown
