"""A case's life as an explicit state machine.

A case is one reported URL, from the first report of it until it is closed::

    received --> triaged --> assessed --> actioned --> closed
        |           |          |  ^ \\________________________^
        |           |          v  |                          |
        |           |          held -------------------------+
        |           +--> duplicate / not actionable
        +--> duplicate / not actionable

- received: a report named the URL; triage (fetch, hash, match) has not finished.
- triaged: triage finished and the case waits in the analyst queue.
- assessed: its outcome is known, by an analyst or automatically (every item known material).
- held: assessed illegal and held for the police (holds.py): the referral goes first and no
  notice reaches the host until a law-enforcement user releases the case (back to assessed, where
  takedown starts) or the hold's unanswered rule does; the police may also have it closed.
- actioned: a notice or referral went out (the takedown app moves cases here).
- closed: nothing more to do.
- duplicate: the same content as another case; not actionable: nothing there to assess (the
  address cannot be fetched, or the page is gone).

`ALLOWED` is the whole machine; `openmnr.hotline.cases.transition` is the only code that changes a
state, and refuses any move not listed here with `TransitionNotAllowed`.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    RECEIVED = "received", _("received")
    TRIAGED = "triaged", _("triaged")
    ASSESSED = "assessed", _("assessed")
    HELD = "held", _("held for the police")
    ACTIONED = "actioned", _("actioned")
    CLOSED = "closed", _("closed")
    DUPLICATE = "duplicate", _("duplicate")
    NOT_ACTIONABLE = "not_actionable", _("not actionable")


ALLOWED: dict[str, frozenset[str]] = {
    State.RECEIVED: frozenset({State.TRIAGED, State.DUPLICATE, State.NOT_ACTIONABLE}),
    State.TRIAGED: frozenset({State.ASSESSED, State.DUPLICATE, State.NOT_ACTIONABLE}),
    State.ASSESSED: frozenset({State.ACTIONED, State.CLOSED, State.HELD}),
    State.HELD: frozenset({State.ASSESSED, State.CLOSED}),
    State.ACTIONED: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
    State.DUPLICATE: frozenset(),
    State.NOT_ACTIONABLE: frozenset(),
}

# A URL reported while a case for it is in one of these states joins that case.
OPEN = (State.RECEIVED, State.TRIAGED, State.ASSESSED, State.HELD, State.ACTIONED)
# The end states: nothing more happens to the case.
FINISHED = (State.CLOSED, State.DUPLICATE, State.NOT_ACTIONABLE)


class PublicStatus(models.TextChoices):
    """The only thing a reporter learns about a report, in this order of progress."""

    RECEIVED = "received", _("Received")
    BEING_ASSESSED = "being_assessed", _("Being assessed")
    ACTION_TAKEN = "action_taken", _("Action taken")
    CLOSED = "closed", _("Closed")

    @property
    def explanation(self) -> str:
        """One sentence for the reporter about what this status means."""
        return _EXPLANATION[self]


_EXPLANATION = {
    PublicStatus.RECEIVED: _("We have your report and will look at it soon."),
    PublicStatus.BEING_ASSESSED: _("An analyst is looking at what you reported."),
    PublicStatus.ACTION_TAKEN: _(
        "We have acted on your report, for example by asking for the content to be removed."
    ),
    PublicStatus.CLOSED: _("We have finished with this report."),
}


_PUBLIC = {
    State.RECEIVED: PublicStatus.RECEIVED,
    State.TRIAGED: PublicStatus.BEING_ASSESSED,
    State.ASSESSED: PublicStatus.BEING_ASSESSED,
    State.HELD: PublicStatus.BEING_ASSESSED,
    State.ACTIONED: PublicStatus.ACTION_TAKEN,
    State.CLOSED: PublicStatus.CLOSED,
    State.DUPLICATE: PublicStatus.CLOSED,
    State.NOT_ACTIONABLE: PublicStatus.CLOSED,
}
_PROGRESS = list(PublicStatus)


def public_status(case_states: list[str]) -> PublicStatus:
    """A report's coarse status from the states of its cases: the least advanced of them, so a
    report reads "closed" only once every URL in it is."""
    if not case_states:
        return PublicStatus.RECEIVED
    return min((_PUBLIC[State(state)] for state in case_states), key=_PROGRESS.index)
