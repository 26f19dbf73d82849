"""Sending one message: by e-mail (Django's mail backend, SMTP in production) or as a signed webhook.

A webhook is a JSON POST to the recipient's API URL. Its signature lets the recipient check that
the hotline sent it and that nothing changed on the way, without TLS client certificates:

    X-OpenMNR-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<unix time>." + body)>

The secret is the one shown for the recipient in the directory. Signing the time as well lets the
recipient refuse a replayed message (say, one older than five minutes). Redirects are not
followed: a webhook goes to the address configured and nowhere else.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

SIGNATURE_HEADER = "X-OpenMNR-Signature"


@dataclass(frozen=True)
class Message:
    recipient: str
    subject: str
    body: str
    emails: tuple[str, ...] = ()
    api_url: str = ""
    secret: str = ""
    payload: dict = field(default_factory=dict)  # the webhook's JSON, beside the text

    @property
    def channel(self) -> str:
        return "webhook" if self.api_url else "email"

    @property
    def address(self) -> str:
        return self.api_url or "\n".join(self.emails)


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    error: str = ""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def deliver(message: Message) -> Delivery:
    """Send `message`; never raises for a recipient that cannot be reached (the error is returned
    so that the notice records it and the tick tries again later)."""
    if message.api_url:
        return _webhook(message)
    return _email(message)


def _email(message: Message) -> Delivery:
    if not message.emails:
        return Delivery(False, "no e-mail address")
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.TAKEDOWN_FROM_EMAIL,
        to=list(message.emails),
    )
    try:
        email.send()
    except OSError as exc:  # smtplib.SMTPException is an OSError, as are refused connections
        return Delivery(False, f"the mail server refused or did not answer: {exc}")
    return Delivery(True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _webhook(message: Message) -> Delivery:
    parts = urlsplit(message.api_url)
    if parts.scheme != "https" and not (
        parts.scheme == "http" and parts.hostname in settings.TAKEDOWN_WEBHOOK_ALLOW_HTTP
    ):
        return Delivery(False, "webhooks go to https:// addresses only")
    body = json.dumps(message.payload, sort_keys=True, ensure_ascii=False).encode()
    request = urllib.request.Request(
        message.api_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "OpenMNR-notices/1",
            SIGNATURE_HEADER: sign(message.secret, int(time.time()), body),
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.TAKEDOWN_WEBHOOK_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return Delivery(False, f"the webhook answered HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return Delivery(False, f"the webhook did not answer: {exc}")
    if not 200 <= status < 300:
        return Delivery(False, f"the webhook answered HTTP {status}")
    return Delivery(True)
