"""Takedown's service functions, one module per use case; views, the API, the management command,
the worker's clock, the demo and other apps use these names only.

    tick(now=None, *, tools=None, limit=500) -> TickResult     clock.py: open, then work what is due
    open_assessed(now) / open_case(case_id, now)               opening.py
    decide(case_id, user, *, emails=None, partner=None, ...)   decisions.py: an analyst routes by hand
    notice_for_token(token) / acknowledge(token, message)      acknowledgement.py: a host confirms
    removal_times_by_outcome(case_ids=None) / hosting_countries(case_ids=None)
                                                               outcomes.py: for published statistics
    keep_notice(...) / mark_actioned(takedown, reason)          messages.py (referrals.py uses them)
    live_confirmed_urls() -> [LiveURL]                          blocklist.py: what a blocking list may hold

How a case moves: the schedule is the core's (openmnr.core.takedown.schedule). The tick (clock.py)
takes one due case at a time under a lease, asks `due()` what to do and performs each task as a
step (steps.py: trace and route, notice, escalation, forward, check), each committing on its own
with its timeline (timeline.py), so a worker killed between two steps redoes nothing that was
recorded. A notice sent just before a crash, and not yet recorded, goes out again: notices are
delivered at least once. The hotline case moves to "actioned" when the first notice, forward or
referral goes out, and to "closed" when the schedule has nothing more to do, through the hotline's
interface (openmnr.hotline.services).
"""

from .. import keys
from ..network import Network
from ..network import register as register_network
from .acknowledgement import acknowledge, notice_for_token
from .blocklist import LiveURL, live_confirmed_urls
from .clock import LEASE, MAX_STEPS, LeaseLost, TickResult, tick
from .decisions import decide
from .messages import keep_notice, mark_actioned
from .opening import open_assessed, open_case
from .outcomes import hosting_countries, removal_times_by_outcome


def referral_recipients():
    """The law-enforcement directory entries a referral package can be addressed to."""
    from ..referrals import recipients

    return recipients()


def referral_signing_key():
    """The hotline's Ed25519 key that signs referral packages (made on first use in demo mode)."""
    return keys.signing_key()


def parse_recipient_key(text: str):
    """A law-enforcement recipient's X25519 public key from its PEM text."""
    return keys.parse_recipient_key(text)


__all__ = [
    "LEASE",
    "LeaseLost",
    "LiveURL",
    "MAX_STEPS",
    "Network",
    "TickResult",
    "acknowledge",
    "decide",
    "hosting_countries",
    "removal_times_by_outcome",
    "keep_notice",
    "live_confirmed_urls",
    "mark_actioned",
    "notice_for_token",
    "open_assessed",
    "open_case",
    "parse_recipient_key",
    "referral_recipients",
    "referral_signing_key",
    "register_network",
    "tick",
]
