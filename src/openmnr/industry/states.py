"""The two lives of an industry report, each an explicit state machine.

A *report* follows NCMEC's protocol, from submit to finish::

    open --> finished
      |----> retracted   (the provider cancelled it)
      +----> expired     (not finished 24 h after opening or 1 h after its last change,
                          whichever is later; the worker's clock expires it)

Finishing is final. A retracted or expired report keeps only its row and history: its document,
files and kept bytes are erased in the same transaction that moves it.

A finished report becomes a *case* in the law-enforcement queue::

    queued --> referred --> closed
       \\____________________^

- queued: waiting in the queue, in risk order;
- referred: exported as a signed referral package (for our own police, or for the police of the
  country it concerns);
- closed: an outcome is marked (investigation opened, forwarded abroad, no further action...).

``REPORT_ALLOWED`` and ``CASE_ALLOWED`` are the whole machines; ``lifecycle.transition`` and
``cases.transition`` are the only code that changes a state, and refuse any other move with
``TransitionNotAllowed``.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    OPEN = "open", _("open")
    FINISHED = "finished", _("finished")
    RETRACTED = "retracted", _("retracted")
    EXPIRED = "expired", _("expired")


REPORT_ALLOWED: dict[str, frozenset[str]] = {
    ReportState.OPEN: frozenset({ReportState.FINISHED, ReportState.RETRACTED, ReportState.EXPIRED}),
    ReportState.FINISHED: frozenset(),
    ReportState.RETRACTED: frozenset(),
    ReportState.EXPIRED: frozenset(),
}


class CaseState(models.TextChoices):
    QUEUED = "queued", _("queued")
    REFERRED = "referred", _("referred")
    CLOSED = "closed", _("closed")


CASE_ALLOWED: dict[str, frozenset[str]] = {
    CaseState.QUEUED: frozenset({CaseState.REFERRED, CaseState.CLOSED}),
    CaseState.REFERRED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}


class Outcome(models.TextChoices):
    """What law enforcement did with a report; marking one closes the case."""

    INVESTIGATION = "investigation", _("Investigation opened")
    INTELLIGENCE = "intelligence", _("Kept as intelligence")
    FORWARDED = "forwarded", _("Forwarded to the country it concerns")
    NO_ACTION = "no_action", _("No further action")
    DUPLICATE = "duplicate", _("Duplicate of another report")


class TransitionNotAllowed(Exception):
    def __init__(self, current: str, to: str):
        super().__init__(f"a {current} report cannot become {to}")
        self.current, self.to = current, to
