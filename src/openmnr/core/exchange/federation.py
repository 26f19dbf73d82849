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
kind and the body. The message id makes delivery idempotent: the receiver keeps the ids it has
applied and refuses one it has seen (``replayed``), which is also how a sender learns that a retry
after a lost answer had in fact arrived. Keeping the ids is the receiver's job (the Django app's),
not this module's.

Bodies carry URLs, hosting, classification in the vocabulary's terms, and signals (hashes) - never
media. Signals are validated with the signal type that owns them.
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

from openmnr.core.vocabulary import VocabularyError, vocabulary

from . import ExchangeError

FORMAT = "openmnr-federation/1"
DOMAIN = FORMAT.encode() + b"\n"
SIGNATURE_HEADER = "X-OpenMNR-Federation-Signature"
INBOX_PATH = "api/v1/federation/inbox"
MAX_MESSAGE_BYTES = 256 * 1024
MAX_SKEW = timedelta(minutes=10)
MAX_ITEMS = 200
KINDS = ("case.forward", "case.action")
# What a partner tells the hotline that forwarded a case, as it happens.
ACTIONS = (
    "received",
    "referred_to_police",
    "notice_to_host",
    "removed",
    "unavailable",
    "moved",
    "not_illegal",
)
SIGNAL_NAMES = ("pdq", "md5", "sha256", "vpdq")

_ID = re.compile(r"^[0-9a-f]{32}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


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


def _utc(moment: datetime) -> str:
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
        "sent_at": _utc(sent_at or datetime.now(UTC)),
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
    sent_at = _parse_time(envelope.get("sent_at"))
    if sent_at is None:
        raise MessageRefused("malformed", "sent_at is not a time", **ids)
    if abs(now - sent_at) > MAX_SKEW:
        raise MessageRefused("stale", f"sent at {_utc(sent_at)}, more than {MAX_SKEW} from now", **ids)
    kind = envelope.get("kind")
    if kind not in KINDS:
        raise MessageRefused("malformed", f"unknown message kind {kind!r}", **ids)
    body = envelope.get("body")
    if not isinstance(body, dict):
        raise MessageRefused("malformed", "the body is not an object", **ids)
    try:
        body = read_forward(body) if kind == "case.forward" else read_action(body)
    except FederationError as exc:
        raise MessageRefused("malformed", str(exc), **ids) from None
    return Message(id=message_id, kind=kind, sender=sender, recipient=own_key_id, sent_at=sent_at, body=body)


def _signature_bytes(header: str) -> bytes | None:
    if not isinstance(header, str) or not header.startswith("ed25519="):
        return None
    value = header.removeprefix("ed25519=").strip()
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        return None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


# --- bodies ---------------------------------------------------------------------------------------


def classification(
    assessment: str,
    *,
    category: str = "",
    age_group: str = "",
    gender: str = "",
    flags: list[str] | None = None,
) -> dict:
    return {
        "assessment": assessment,
        "category": category,
        "age_group": age_group,
        "gender": gender,
        "flags": sorted(flags) if flags is not None else None,
    }


def forward_body(
    *,
    case: str,
    url: str,
    reported_at: datetime,
    classification: dict,
    hosting: dict,
    items: list[dict],
) -> dict:
    """A case handed to a partner: its reference here, URL, hosting, classification and items
    (each a URL, its classification and its signals). Checked as the receiver will check it."""
    body = {
        "case": case,
        "url": url,
        "reported_at": _utc(reported_at),
        "classification": classification,
        "category_scheme": vocabulary().default_scheme,
        "vocabulary": vocabulary().version,
        "hosting": hosting,
        "items": items,
    }
    return read_forward(body)


def action_body(*, case: str, action: str, at: datetime, note: str = "", hosting: dict | None = None) -> dict:
    body = {"case": case, "action": action, "at": _utc(at), "note": note, "hosting": hosting}
    return read_action(body)


def read_forward(body: dict) -> dict:
    case = _string(body, "case", 100)
    url = _string(body, "url", 4000)
    if _parse_time(body.get("reported_at")) is None:
        raise FederationError("reported_at is not a time")
    items = body.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise FederationError(f"items must be a list of at most {MAX_ITEMS}")
    checked_items = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise FederationError(f"item {index + 1} is not an object")
        checked_items.append(
            {
                "url": _string(item, "url", 4000),
                "classification": _classification(item.get("classification"), optional=True),
                "signals": _signals(item.get("signals"), index + 1),
            }
        )
    return {
        "case": case,
        "url": url,
        "reported_at": body["reported_at"],
        "classification": _classification(body.get("classification")),
        "category_scheme": _string(body, "category_scheme", 40),
        "vocabulary": _string(body, "vocabulary", 40),
        "hosting": _hosting(body.get("hosting")),
        "items": checked_items,
    }


def read_action(body: dict) -> dict:
    case = _string(body, "case", 100)
    action = body.get("action")
    if action not in ACTIONS:
        raise FederationError(f"unknown action {action!r}")
    if _parse_time(body.get("at")) is None:
        raise FederationError("at is not a time")
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        raise FederationError("note must be text of at most 2000 characters")
    hosting = body.get("hosting")
    return {
        "case": case,
        "action": action,
        "at": body["at"],
        "note": note,
        "hosting": _hosting(hosting) if hosting is not None else None,
    }


def _string(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise FederationError(f"{name} must be text of 1 to {limit} characters")
    return value.strip()


def _classification(data: Any, *, optional: bool = False) -> dict | None:
    if data is None and optional:
        return None
    if not isinstance(data, dict):
        raise FederationError("classification must be an object")
    vocab = vocabulary()
    try:
        assessment = vocab.assessment.term(data.get("assessment") or "").code
        age_group = vocab.age_group.term(data["age_group"]).code if data.get("age_group") else ""
        gender = vocab.gender.term(data["gender"]).code if data.get("gender") else ""
        flags = data.get("flags")
        if flags is not None:
            if not isinstance(flags, list):
                raise FederationError("flags must be a list or null")
            flags = sorted(vocab.close_flags(flags))
    except VocabularyError as exc:
        raise FederationError(f"classification: {exc}") from None
    category = data.get("category") or ""
    if not isinstance(category, str) or len(category) > 64:
        raise FederationError("category must be a short text")
    return {
        "assessment": assessment,
        "category": category,
        "age_group": age_group,
        "gender": gender,
        "flags": flags,
    }


def _hosting(data: Any) -> dict:
    if not isinstance(data, dict):
        raise FederationError("hosting must be an object")
    country = data.get("country") or ""
    if country and (not isinstance(country, str) or not _COUNTRY.match(country)):
        raise FederationError("hosting.country must be an ISO 3166-1 alpha-2 code")
    result = {"country": country}
    for name in ("ip", "isp"):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > 200:
            raise FederationError(f"hosting.{name} must be a short text")
        result[name] = value
    return result


def _signals(data: Any, number: int) -> dict:
    from openmnr.core import signals
    from openmnr.core.signals.base import InvalidSignalValue

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FederationError(f"item {number}: signals must be an object")
    checked = {}
    for name, value in data.items():
        if name not in SIGNAL_NAMES:
            raise FederationError(f"item {number}: unknown signal type {name!r}")
        if not isinstance(value, str) or len(value) > 200_000:
            raise FederationError(f"item {number}: the {name} signal is not text")
        try:
            checked[name] = signals.get(name).validate(value)
        except InvalidSignalValue as exc:
            raise FederationError(f"item {number}: the {name} signal is not valid ({exc})") from None
    return checked
