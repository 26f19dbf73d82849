"""Rate limits for the public pages without keeping the reporter's address.

The counter is keyed by an HMAC of the client address under a key derived from SECRET_KEY and
today's date, so the key changes every day: yesterday's counters cannot be tied to today's, and
the address itself is never written anywhere.
"""

import hashlib
import hmac

from django.conf import settings
from django.utils import timezone

from openmnr.accounts import ratelimit
from openmnr.common.request import client_address

HOUR = 3600


def _day_key() -> bytes:
    day = timezone.now().date().isoformat()
    return hashlib.sha256(f"openmnr hotline rate limit\0{day}\0{settings.SECRET_KEY}".encode()).digest()


def reporter_key(request, purpose: str) -> str:
    digest = hmac.new(_day_key(), client_address(request).encode(), hashlib.sha256).hexdigest()
    return f"hotline-{purpose}:{digest[:40]}"


def allow(request, purpose: str, *, limit: int | None = None, window_seconds: int = HOUR) -> bool:
    """Count one public request; False once this address made ``limit`` of them in the window
    (by default HOTLINE_REPORTS_PER_HOUR an hour)."""
    limit = settings.HOTLINE_REPORTS_PER_HOUR if limit is None else limit
    return ratelimit.hit(reporter_key(request, purpose), limit, window_seconds)
