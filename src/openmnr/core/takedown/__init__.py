"""Notice and takedown logic that needs no database: routing, the notice and monitoring schedule,
and removal-time statistics.

Modules:
    routing   which actions a hosting trace calls for, from rules an administrator edits
    schedule  when to send notices, escalate, re-check and re-trace; when removal is confirmed
    stats     median / p90 removal times and the share removed within 1, 3 and 7 days

Every error these modules raise on purpose is a subclass of TakedownError.
"""


class TakedownError(Exception):
    """Base of every error raised on purpose by openmnr.core.takedown."""
