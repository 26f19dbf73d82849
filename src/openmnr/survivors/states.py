"""A survivor's case and each of its pictures or videos, as explicit state machines.

A case is what one person sent, under one code::

    open --> withdrawn      the person withdrew it (with the code)
      \\---> closed          staff closed it (dealt with, or found to be abuse of the page)

While a case is open its active items are matched by platforms. Leaving ``open`` in either
direction is final: the case's entries leave matching (unless another open case sent the same
picture), its contact address is deleted, and its hash values are erased from this app's rows (the
bank keeps its disabled entries for the record). ``cases.transition`` is the only code that moves
a case, and it does all of that in one transaction.

An item is one picture or video::

    active ----------------------------> withdrawn   (its case left "open")
    held --> active (staff released it)
      |\\--> rejected (staff rejected it; final)
      \\---------------------------------> withdrawn   (its case left "open")

- active: its hashes are entries of the self-reported bank, matched by platforms.
- held: screening stopped it before the bank (see screening.py); it waits for staff.
- rejected: staff found it should not be matched (a well-known harmless picture, say). Its hash
  values are kept, so that the same picture sent again is held again.
- withdrawn: its case is no longer open.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    OPEN = "open", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


CASE_ALLOWED: dict[str, frozenset[str]] = {
    CaseState.OPEN: frozenset({CaseState.WITHDRAWN, CaseState.CLOSED}),
    CaseState.WITHDRAWN: frozenset(),
    CaseState.CLOSED: frozenset(),
}


class ItemState(models.TextChoices):
    ACTIVE = "active", _("Active")
    HELD = "held", _("Being checked")
    REJECTED = "rejected", _("Not accepted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ITEM_ALLOWED: dict[str, frozenset[str]] = {
    ItemState.ACTIVE: frozenset({ItemState.WITHDRAWN}),
    ItemState.HELD: frozenset({ItemState.ACTIVE, ItemState.REJECTED, ItemState.WITHDRAWN}),
    ItemState.REJECTED: frozenset(),
    ItemState.WITHDRAWN: frozenset(),
}


class HoldReason(models.TextChoices):
    """Why screening held an item for staff (see screening.py)."""

    KNOWN_BENIGN = "known_benign", _("matches a bank of known non-illegal pictures")
    MANY_MATCHES = "many_matches", _("matches many entries already")
    PREVIOUSLY_REJECTED = "previously_rejected", _("staff rejected or disabled this hash before")
    FLOOD = "flood", _("sent during a flood of submissions")
