"""The errors the assessment's service functions raise on purpose. Views turn them into answers:
NotAllowed -> 403, CycleLocked -> 409, InvalidInput (and EvidenceError) -> the form again with 400."""


class AssessmentError(Exception):
    """Base of every error raised on purpose by openmnr.assessment."""


class NotAllowed(AssessmentError):
    """The user may not do this to this cycle or capability (for example, a domain not assigned to them)."""


class CycleLocked(AssessmentError):
    """The cycle's state forbids the change (it is in review, or signed off and read-only)."""


class InvalidInput(AssessmentError):
    """The values given do not fit the cycle's framework or the workflow's rules."""


class EvidenceError(InvalidInput):
    """An uploaded document is too large, empty, or not one of the allowed types."""
