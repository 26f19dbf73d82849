"""The errors the hotline's service functions raise. Every one is a `HotlineError`, so a view or
another app can catch the family and show the message; none is a crash."""


class HotlineError(Exception):
    """Base class of the hotline's errors; the message is meant for the person who acted."""


class InvalidReport(HotlineError, ValueError):
    """A report that cannot be accepted as sent (no URL, a URL that is not http(s), too many URLs)."""


class IdempotencyConflict(HotlineError):
    """The Idempotency-Key was already used by this key with a different request body."""


class InvalidTrackingCode(HotlineError, ValueError):
    """The text is not a tracking code: wrong length, letters that codes never hold, or a check
    character that does not fit (a typo)."""


class UnknownTrackingCode(HotlineError, LookupError):
    """A well-formed tracking code that no report carries."""


class CaseNotFound(HotlineError, LookupError):
    """No case (or media item) has this id."""


class TransitionNotAllowed(HotlineError):
    """The case's state machine does not allow this move from its current state."""

    def __init__(self, current: str, wanted: str):
        super().__init__(f"a case in state {current!r} cannot move to {wanted!r}")
        self.current = current
        self.wanted = wanted


class ClaimError(HotlineError):
    """The case cannot be claimed or released by this analyst (held by someone else, or not in the
    queue)."""


class NotCaseHolder(HotlineError, PermissionError):
    """Only the analyst who claimed the case may view its media or assess it."""


class AssessmentIncomplete(HotlineError):
    """The case cannot be completed: an item is not classified yet, or a page without media has no
    outcome."""


class InvalidClassification(HotlineError, ValueError):
    """A classification outside the configured scheme, or one that misses a required part."""


class RevealError(HotlineError):
    """The item has no kept bytes to show, or it is not the item this analyst revealed."""


class ProposalRefused(HotlineError):
    """The item's hashes cannot be proposed: it is not classified illegal by an analyst, or the
    banks app refused (no such bank, or the analyst may not propose to it)."""


class HoldError(HotlineError):
    """The case cannot be held, released or kept: it is not in the state for it, or the answer
    lacks its reason or review date."""
