"""The refusals of the banks app, and the one way a refusal is audited.

Every service function raises a ``BankError`` subclass when it refuses; its message is safe to show
to the caller (never a hash value). ``audited_refusal`` wraps the body of a service function: a
refusal raised in it is recorded in the audit log, "denied" for a permission or four-eyes refusal
and "failure" for the others, and raised again. It sits outside the function's transaction, so the
refusal is recorded after the refused change rolled back, and stays recorded.
"""

from contextlib import contextmanager

from openmnr.audit import service as audit


class BankError(Exception):
    """Base of every refusal of the banks services; the message is safe to show to the caller."""


class NotAllowed(BankError):
    """The caller lacks the permission, or may not see this bank."""


class FourEyesViolation(BankError):
    """A confirmation that would break the four-eyes rule (own proposal, or a second time)."""


class WrongState(BankError):
    """The entry or import is not in a state where this action applies."""


class InvalidInput(BankError):
    """A value, classification, format or file that cannot be accepted."""


class DuplicateEntry(InvalidInput):
    """The bank already holds this value."""


class TooManyVariants(BankError):
    """The caller tried more near-variants of one entry this hour than allowed (see variants.py)."""


@contextmanager
def audited_refusal(action: str, *, by, obj=None, request=None):
    """Record a ``BankError`` raised in the block as a refused ``action`` on ``obj``, then raise it."""
    try:
        yield
    except BankError as error:
        denied = isinstance(error, NotAllowed | FourEyesViolation)
        audit.record(
            action,
            request=request,
            actor=by,
            obj=obj,
            outcome=audit.DENIED if denied else audit.FAILURE,
            detail={"reason": type(error).__name__},
        )
        raise
