"""The refusals of the banks app, and the one way a refusal is audited.

Every service function raises a ``BankError`` subclass when it refuses; its message is safe to show
to the caller (never a hash value). ``audited_refusal`` wraps the body of a service function and
records a refusal raised in it (`openmnr.audit.refusals`).
"""

from openmnr.audit.refusals import refusal_recorder


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


audited_refusal = refusal_recorder(BankError, denied=(NotAllowed, FourEyesViolation))
