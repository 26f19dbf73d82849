"""A cycle's life as an explicit state machine.

A cycle is one country's self-assessment over one period::

    draft --> in review --> awaiting countersignature --> signed off
      ^           |                  |
      +-----------+------------------+   (returned to draft for changes)

- draft: contributors record levels, criteria and evidence; the coordinator assigns domains.
- in review: levels, evidence and assignments are frozen while the coordinators read them; comments
  stay open.
- awaiting countersignature: a national coordinator has signed, after step-up, on a page listing
  everything that will be frozen. The live indicators are frozen and the content hash is fixed at
  that moment.
- signed off: a *second* national coordinator has countersigned the same content hash (four eyes).
  Read-only for good; the report carries both names and the hash.

``ALLOWED`` is the whole machine; ``openmnr.assessment.cycles.transition`` is the only code that changes
a state, and refuses any move not listed here.
"""

from django.db import models


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    AWAITING_COUNTERSIGNATURE = "awaiting_countersignature", "Awaiting countersignature"
    SIGNED_OFF = "signed_off", "Signed off"


ALLOWED: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.IN_REVIEW}),
    State.IN_REVIEW: frozenset({State.DRAFT, State.AWAITING_COUNTERSIGNATURE}),
    State.AWAITING_COUNTERSIGNATURE: frozenset({State.SIGNED_OFF, State.DRAFT}),
    State.SIGNED_OFF: frozenset(),
}

# What each move is called in the history and the audit log (assessment.<name>).
MOVES: dict[tuple[str, str], str] = {
    (State.DRAFT, State.IN_REVIEW): "submit_for_review",
    (State.IN_REVIEW, State.DRAFT): "return_to_draft",
    (State.IN_REVIEW, State.AWAITING_COUNTERSIGNATURE): "sign",
    (State.AWAITING_COUNTERSIGNATURE, State.SIGNED_OFF): "countersign",
    (State.AWAITING_COUNTERSIGNATURE, State.DRAFT): "return_to_draft",
}

# Levels, criteria, evidence and assignments change only in these states; comments in these.
EDITABLE = frozenset({State.DRAFT})
COMMENTABLE = frozenset({State.DRAFT, State.IN_REVIEW, State.AWAITING_COUNTERSIGNATURE})
# The two signatures: each needs step-up and the confirmation page.
SIGNING = frozenset({State.AWAITING_COUNTERSIGNATURE, State.SIGNED_OFF})
