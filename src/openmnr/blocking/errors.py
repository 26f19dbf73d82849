"""The refusals of the blocking app; each message is safe to show to the caller (never a list entry).

``audited_refusal`` records a refusal raised in its block (`openmnr.audit.refusals`).
"""

from openmnr.audit.refusals import refusal_recorder


class BlockingError(Exception):
    """Base of every refusal of the blocking services."""


class NotAllowed(BlockingError):
    """The caller lacks the permission."""


class FourEyesViolation(BlockingError):
    """A confirmation of one's own proposal, or a second confirmation by the same person."""


class WrongState(BlockingError):
    """The keyword is not in a state where this action applies."""


class NotPublished(BlockingError):
    """No list has been published yet, or not the version asked for (HTTP 404)."""


class InvalidInput(BlockingError):
    """A value that cannot be accepted: a bad prefix, element, version, term or language."""


class BadLines(InvalidInput):
    """A partner's plain list with lines that are neither a web address nor a SHA-256: each as
    (line number, reason) in ``lines`` (the first ``SHOWN``); nothing of the file is kept."""

    SHOWN = 20

    def __init__(self, lines: list[tuple[int, str]], total: int):
        self.lines, self.total = lines[: self.SHOWN], total
        first = "; ".join(
            f"line {n} is neither a web address nor a SHA-256: {why}" for n, why in self.lines[:3]
        )
        more = f" (and {total - 3} more)" if total > 3 else ""
        super().__init__(f"{total} bad line(s), nothing imported: {first}{more}")


class TooSoon(BlockingError):
    """A list update asked for before the list's minimum wait has passed."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PartnerRefused(BlockingError):
    """A partner's list that cannot be trusted or fetched: a signature that does not hold with the
    registered key, an older export than the one imported, an entry that is no web address."""


class PartnerBusy(PartnerRefused):
    """The partner answered 429: we asked before its minimum wait. ``retry_after`` is its
    Retry-After in seconds (None when it gave none we could read)."""

    def __init__(self, message: str, retry_after: int | None):
        super().__init__(message)
        self.retry_after = retry_after


class FetchUnderWay(BlockingError):
    """Another fetch of the same partner list is running (the clock's or someone's "fetch now")."""


class Conflict(BlockingError):
    """Another publication of the list happened at the same moment; try again."""


class DuplicateKeyword(InvalidInput):
    """The term is already on the list (or awaiting confirmation) for that language."""


audited_refusal = refusal_recorder(BlockingError, denied=(NotAllowed, FourEyesViolation))
