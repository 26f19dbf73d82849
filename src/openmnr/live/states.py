"""A live alert's life as an explicit state machine.

    new --> acknowledged --> confirmed
      \\            \\------> false_alert
       +--> confirmed / false_alert

- new: the monitor raised it; nobody has looked yet. The page lists these first.
- acknowledged: an analyst is on it (the stream may still be running: ``ongoing``).
- confirmed: the analyst confirmed known material was streamed; the platform's own process
  (ending the stream, reporting) follows outside this app.
- false_alert: the match was wrong; the note says why, and the count is what docs/live.md's
  false-alert rate is checked against in production.

Whether the stream still shows the material (``LiveAlert.ongoing``) is separate: the monitor
closes the episode; analysts move the state. ``cases.transition`` is the only code that changes a
state and refuses a move not in ``ALLOWED``.
"""

from django.db import models


class State(models.TextChoices):
    NEW = "new", "new"
    ACKNOWLEDGED = "acknowledged", "acknowledged"
    CONFIRMED = "confirmed", "confirmed"
    FALSE_ALERT = "false_alert", "false alert"


ALLOWED: dict[str, frozenset[str]] = {
    State.NEW: frozenset({State.ACKNOWLEDGED, State.CONFIRMED, State.FALSE_ALERT}),
    State.ACKNOWLEDGED: frozenset({State.CONFIRMED, State.FALSE_ALERT}),
    State.CONFIRMED: frozenset(),
    State.FALSE_ALERT: frozenset(),
}
