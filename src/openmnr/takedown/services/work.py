"""What every step of the tick shares: the case it works on, the lease that makes it the only one
working it, the moment the tick stands at, and the tools it reaches the world with."""

from dataclasses import dataclass
from datetime import datetime

from openmnr.core.takedown.schedule import Cadence, CaseState

from .. import config
from ..models import TakedownCase
from . import timeline


class LeaseLost(Exception):
    """Another tick took the case after this one's lease ran out; this one stops."""


@dataclass(frozen=True)
class Work:
    """One tick's hold on one case. Network work happens outside any transaction; every write
    goes through `locked()` inside a transaction, which checks that the lease is still ours."""

    takedown_id: int
    token: str  # the lease token written when the case was claimed
    now: datetime
    tools: config.Tools
    cadence: Cadence

    def load(self) -> TakedownCase:
        """The case as it is now, with its hotline case, for reading (no lock)."""
        return TakedownCase.objects.select_related("case").get(pk=self.takedown_id)

    def locked(self) -> TakedownCase:
        """The case row locked for the caller's transaction; raises LeaseLost if another tick
        holds it now."""
        takedown = TakedownCase.objects.select_for_update().get(pk=self.takedown_id)
        if takedown.lease_token != self.token:
            raise LeaseLost(self.takedown_id)
        return takedown

    def event(self, takedown: TakedownCase, kind, text: str, **detail) -> None:
        timeline.event(takedown, self.now, kind, text, **detail)


def save_state(takedown: TakedownCase, state: CaseState, *fields: str) -> None:
    """Store the schedule's state on the case with `fields` (inside the caller's transaction)."""
    takedown.schedule = state.to_dict()
    takedown.save(update_fields=["schedule", *fields])


@dataclass(frozen=True)
class Outcome:
    """What a step leaves: the case as saved, the schedule's new state, and whether it is done
    (False: something failed, such as a delivery, and the whole case waits for the retry delay)."""

    takedown: TakedownCase
    state: CaseState
    done: bool = True
