"""The errors the takedown app's service functions raise. Every one is a `TakedownAppError`, so a
view can catch the family and show the message; none is a crash."""


class TakedownAppError(Exception):
    """Base class of the takedown app's errors; the message is meant for the person who acted."""


class AcknowledgementInvalid(TakedownAppError):
    """The acknowledgement link was altered or never issued."""


class AcknowledgementExpired(AcknowledgementInvalid):
    """The acknowledgement link is genuine but older than OPENMNR_TAKEDOWN_ACK_DAYS."""


class DecisionRefused(TakedownAppError):
    """An analyst's routing decision that cannot be carried out (no address, no such partner)."""


class ReferralRefused(TakedownAppError):
    """A referral that cannot be sent (already sent, no law-enforcement recipient, no key)."""


class ReferralNotFound(TakedownAppError, LookupError):
    """No referral with this id is addressed to the caller."""
