"""Rate limits for the public pages without keeping the reporter's address.

Counted with ``accounts.ratelimit.hit_private``: the counter's name is a keyed hash of the client
address under a secret that exists only for the window it counts (an hour, or a day for some pages)
and is deleted with the window's counters when it ends, so no one can later tell, even with SECRET_KEY and the database, which
address made a report. The address itself is never written anywhere.
"""

from django.conf import settings

from openmnr.accounts import ratelimit
from openmnr.common.request import client_address

HOUR = 3600


def allow(request, purpose: str, *, limit: int | None = None, window_seconds: int = HOUR) -> bool:
    """Count one public request; False once this address made ``limit`` of them in the window
    (by default HOTLINE_REPORTS_PER_HOUR an hour, aligned to the clock)."""
    limit = settings.HOTLINE_REPORTS_PER_HOUR if limit is None else limit
    return ratelimit.hit_private(f"hotline-{purpose}", client_address(request), limit, window_seconds)
