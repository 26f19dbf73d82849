"""Refusals of the survivors app. Each message is safe to show to whoever made the request, and
says what to do; none ever contains a hash value."""


class SurvivorError(Exception):
    """Base of every refusal here. ``code`` is stable, for the page's script and the API."""

    code = "invalid_input"
    status = 400


class InvalidSubmission(SurvivorError):
    """The hashes or confirmations sent cannot be accepted as they are."""


class UnknownCode(SurvivorError):
    """No case has this code (or it is mistyped: the message says which)."""

    code = "unknown_code"
    status = 404


class TooMany(SurvivorError):
    """A rate limit: too many cases or submissions from one address, or too many items in a case."""

    code = "too_many"
    status = 429


class CaseNotOpen(SurvivorError):
    """The case was withdrawn or closed: nothing can be added to it or done with it."""

    code = "case_not_open"
    status = 409


class NotAllowed(SurvivorError):
    """A staff action this user may not take, or one the item's state does not allow."""

    code = "not_allowed"
    status = 403
