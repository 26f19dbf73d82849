"""The signed webhook a live alert is sent with.

The same signature as the takedown notices' webhooks (``takedown/delivery.py``), so a receiver
checks both with one function::

    X-OpenMNR-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<unix time>." + body)>

The body is the alert as JSON (sorted keys): the stream identifier, the time span, the matching
bank entries with their banks and classifications when the platform sends it (``openmnr live
serve``), entry ids only when ``openmnr live watch`` sends it alone. Never a frame nor a hash.
Redirects are not followed, and only https:// addresses are used unless the host is listed as
allowed over http (a receiver on the same machine).
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-OpenMNR-Signature"


def alert_body(event: dict) -> dict:
    """What ``openmnr live watch --webhook`` sends for an alert event: the event without the
    reveal buffer's sealed frames, which go only to the platform (docs/live.md)."""
    return {name: value for name, value in event.items() if name != "frames"}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, max_age: float = 300.0, now: float | None = None
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is at most ``max_age`` seconds old."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > max_age:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(
    url: str, secret: str, payload: dict, *, timeout: float = 10.0, allow_http: tuple[str, ...] = ()
) -> str:
    """Send ``payload``; returns "" when the receiver took it (2xx), else why not. Never raises
    for a receiver that cannot be reached: the caller records the failure and goes on."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in allow_http):
        return "webhooks go to https:// addresses only"
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "OpenMNR-live/1",
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        },
    )
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return f"the webhook answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"the webhook did not answer: {type(exc).__name__}"
    return "" if 200 <= status < 300 else f"the webhook answered HTTP {status}"
