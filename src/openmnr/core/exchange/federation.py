"""OpenMNR federation: signed, idempotent messages between OpenMNR instances.

A partner is a base URL and an Ed25519 public key, exchanged out of band and entered by an
administrator. A message is one JSON object, the envelope::

    {"format": "openmnr-federation/1", "id": "<random 128-bit hex>", "kind": "case.forward",
     "sender": "<key id of the sender>", "recipient": "<key id of the recipient>",
     "sent_at": "2026-05-04T10:00:00Z", "body": {...}}

POSTed as is to ``<partner>/api/v1/federation/inbox`` with the header
``X-OpenMNR-Federation-Signature: ed25519=<base64url signature>``. The signature covers the exact
bytes of the body, prefixed with ``openmnr-federation/1\\n`` so that a signature made for anything
else (a referral package, say) can never pass as a message. A key id is the first 32 hex digits of
the SHA-256 of the raw public key.

What the receiver checks, in this order, and refuses with a `MessageRefused` naming the reason:
the size; the JSON; the sender (a key it knows); the signature (any change to one byte fails);
the recipient (a message for another instance is not replayed here); the time (within
``MAX_SKEW`` of its clock, so an old message cannot be replayed once its id has been forgotten); the
kind. The body is then read by ``federation_body.read_body``, in the vocabulary's terms. The message id makes delivery idempotent: the receiver keeps the ids it has
applied and refuses one it has seen (``replayed``), which is also how a sender learns that a retry
after a lost answer had in fact arrived. Keeping the ids is the receiver's job (the Django app's),
not this module's.

What the bodies carry (URLs, hosting, classification, signals; never media) is in
``federation_body``.
"""

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import ExchangeError

FORMAT = "openmnr-federation/1"
DOMAIN = FORMAT.encode() + b"\n"
SIGNATURE_HEADER = "X-OpenMNR-Federation-Signature"
INBOX_PATH = "api/v1/federation/inbox"
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SKEW = timedelta(minutes=10)
KINDS = ("case.forward", "case.action")

_ID = re.compile(r"^[0-9a-f]{32}$")


class FederationError(ExchangeError):
    """Base of the federation errors."""


class FederationKeyError(FederationError):
    """A key file or key text is not an Ed25519 key of the right kind."""


class MessageRefused(FederationError):
    """An incoming message is not accepted; `reason` is one word for the audit log and the sender."""

    def __init__(self, reason: str, message: str, *, sender: str = "", message_id: str = ""):
        super().__init__(message)
        self.reason = reason
        self.sender = sender
        self.message_id = message_id


# --- keys ---------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; `FederationKeyError` naming what is wrong."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise FederationKeyError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise FederationKeyError(
            f"this is a {type(key).__name__.removeprefix('_')}, not an Ed25519 public key"
        )
    return key


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise FederationKeyError(f"no signing key at {path}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise FederationKeyError(f"{path}: not a PEM private key without password ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise FederationKeyError(f"{path}: not an Ed25519 private key")
    return key


# --- envelope -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    id: str
    kind: str
    sender: str
    recipient: str
    sent_at: datetime
    body: dict


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seal(
    kind: str,
    body: dict,
    *,
    private_key: Ed25519PrivateKey,
    recipient: str,
    message_id: str | None = None,
    sent_at: datetime | None = None,
) -> tuple[bytes, str]:
    """(the bytes to POST, the signature header's value) of one message."""
    if kind not in KINDS:
        raise FederationError(f"unknown message kind {kind!r}")
    envelope = {
        "format": FORMAT,
        "id": message_id or secrets.token_hex(16),
        "kind": kind,
        "sender": key_id(private_key.public_key()),
        "recipient": recipient,
        "sent_at": utc_text(sent_at or datetime.now(UTC)),
        "body": body,
    }
    data = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return data, sign(private_key, data)


def sign(private_key: Ed25519PrivateKey, data: bytes) -> str:
    return "ed25519=" + base64.urlsafe_b64encode(private_key.sign(DOMAIN + data)).decode().rstrip("=")


def open_message(
    data: bytes,
    signature: str,
    *,
    key_for: Callable[[str], Ed25519PublicKey | None],
    own_key_id: str,
    now: datetime | None = None,
) -> Message:
    """Check one incoming message (see the module docstring for the order) and return it."""
    now = now or datetime.now(UTC)
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageRefused("too_large", f"a message is at most {MAX_MESSAGE_BYTES} bytes")
    try:
        envelope = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MessageRefused("malformed", "the message is not JSON") from None
    if not isinstance(envelope, dict):
        raise MessageRefused("malformed", "the message is not a JSON object")
    sender = envelope.get("sender")
    message_id = envelope.get("id") if isinstance(envelope.get("id"), str) else ""
    if not isinstance(sender, str) or not _ID.match(sender):
        raise MessageRefused("malformed", "the message names no sender key", message_id=message_id)
    public_key = key_for(sender)
    if public_key is None:
        raise MessageRefused(
            "unknown_sender", f"no partner holds key {sender}", sender=sender, message_id=message_id
        )
    raw_signature = _signature_bytes(signature)
    try:
        public_key.verify(raw_signature or b"", DOMAIN + data)
    except InvalidSignature:
        raise MessageRefused(
            "bad_signature", "the signature does not match the message", sender=sender, message_id=message_id
        ) from None
    # From here on the content is the partner's own: check it for sense.
    ids = dict(sender=sender, message_id=message_id)
    if envelope.get("format") != FORMAT:
        raise MessageRefused("malformed", f"format {envelope.get('format')!r} is not {FORMAT}", **ids)
    if not _ID.match(message_id):
        raise MessageRefused("malformed", "the message id is not 32 hex digits", **ids)
    if envelope.get("recipient") != own_key_id:
        raise MessageRefused("wrong_recipient", "the message is addressed to another instance", **ids)
    sent_at = parse_time(envelope.get("sent_at"))
    if sent_at is None:
        raise MessageRefused("malformed", "sent_at is not a time", **ids)
    if abs(now - sent_at) > MAX_SKEW:
        raise MessageRefused("stale", f"sent at {utc_text(sent_at)}, more than {MAX_SKEW} from now", **ids)
    kind = envelope.get("kind")
    if kind not in KINDS:
        raise MessageRefused("malformed", f"unknown message kind {kind!r}", **ids)
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise MessageRefused("malformed", "the body is not an object", **ids)
    return Message(id=message_id, kind=kind, sender=sender, recipient=own_key_id, sent_at=sent_at, body=body)


def _signature_bytes(header: str) -> bytes | None:
    if not isinstance(header, str) or not header.startswith("ed25519="):
        return None
    value = header.removeprefix("ed25519=").strip()
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
