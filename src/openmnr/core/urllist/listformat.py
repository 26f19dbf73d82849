"""The URL list on the wire: versioned, Ed25519-signed snapshots and diffs of hash prefixes.

A licensee holds the list as a sorted set of short prefixes of the expressions' SHA-256 (4 bytes by
default, as Safe Browsing does). A prefix tells it only that a URL *may* be listed; the full hash is
confirmed with the server (``oprf.py``), so the prefixes can sit in every resolver and proxy
without spelling out the list: about 1M entries fit in 4 MB, and 2^32 buckets make a prefix shared
by many URLs.

Documents are JSON, ``{"payload": {...}, "signature": base64, "key_id": hex}``; the signature is
Ed25519 over the payload as canonical JSON (sorted keys, no spaces), so a licensee verifies before it
applies anything. A payload carries:

- ``kind``: ``snapshot`` (the whole state) or ``diff`` (from ``from_version`` to ``version``);
- ``additions``: base64 of the added prefixes, concatenated and sorted;
- ``removals`` (diff): base64 of big-endian uint32 indices into the *old* sorted state, as Safe
  Browsing does: a removal names no prefix a second time;
- ``checksum``: SHA-256 of the whole new state (sorted prefixes, concatenated), so a client that
  applied a diff wrongly or missed one notices and asks for a snapshot instead of drifting;
- ``min_wait_seconds``: how long the client must wait before it asks for the next update.

Trade-off: raw prefixes rather than Safe Browsing's Rice-Golomb coding. Sorted random 32-bit values
would shrink to about 45% with Rice coding; raw bytes keep the format readable with ten lines of any
language, and HTTP compression already removes part of the base64 overhead.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "openmnr-urllist/1"
DEFAULT_PREFIX_BYTES = 4


class ListFormatError(ValueError):
    """A list document that cannot be trusted or applied: bad signature, bad shape, wrong checksum."""


def checksum(prefixes: list[bytes]) -> str:
    """SHA-256 of the sorted prefixes, concatenated: the fingerprint of a whole state."""
    return hashlib.sha256(b"".join(sorted(prefixes))).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical_json(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(payload: dict, key: Ed25519PrivateKey) -> dict:
    """The signed document for ``payload``."""
    return {
        "payload": payload,
        "signature": base64.b64encode(key.sign(_canonical_json(payload))).decode("ascii"),
        "key_id": key_id(key.public_key()),
    }


def verify(document: dict, public_key: Ed25519PublicKey) -> dict:
    """The payload of a signed document, or ListFormatError if the signature does not hold."""
    try:
        payload = document["payload"]
        signature = base64.b64decode(document["signature"], validate=True)
        public_key.verify(signature, _canonical_json(payload))
    except (KeyError, TypeError, ValueError, InvalidSignature):
        raise ListFormatError("the document is not signed by the list's key") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ListFormatError(f"the document is not in the {FORMAT} format")
    return payload


def pack(prefixes) -> str:
    return base64.b64encode(b"".join(sorted(prefixes))).decode("ascii")


def unpack(text: str, width: int) -> list[bytes]:
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise ListFormatError("the prefixes are not valid base64") from None
    if len(data) % width:
        raise ListFormatError(f"the prefixes are not a whole number of {width}-byte values")
    return [data[i : i + width] for i in range(0, len(data), width)]


@dataclass
class ListState:
    """What a client holds: the list's version and its sorted prefixes."""

    name: str
    prefix_bytes: int = DEFAULT_PREFIX_BYTES
    version: int = 0
    prefixes: list[bytes] = field(default_factory=list)
    min_wait_seconds: int = 0


def snapshot_payload(
    name: str, version: int, prefixes: set[bytes], *, prefix_bytes: int, min_wait: int, generated_at: str
) -> dict:
    ordered = sorted(prefixes)
    return {
        "format": FORMAT,
        "kind": "snapshot",
        "list": name,
        "version": version,
        "prefix_bytes": prefix_bytes,
        "count": len(ordered),
        "additions": pack(ordered),
        "checksum": checksum(ordered),
        "min_wait_seconds": min_wait,
        "generated_at": generated_at,
    }


def diff_payload(
    name: str,
    from_version: int,
    old: set[bytes],
    version: int,
    new: set[bytes],
    *,
    prefix_bytes: int,
    min_wait: int,
    generated_at: str,
) -> dict:
    old_sorted = sorted(old)
    removed = [i for i, prefix in enumerate(old_sorted) if prefix not in new]
    return {
        "format": FORMAT,
        "kind": "diff",
        "list": name,
        "from_version": from_version,
        "version": version,
        "prefix_bytes": prefix_bytes,
        "count": len(new),
        "additions": pack(new - old),
        "removals": base64.b64encode(b"".join(i.to_bytes(4, "big") for i in removed)).decode("ascii"),
        "checksum": checksum(list(new)),
        "min_wait_seconds": min_wait,
        "generated_at": generated_at,
    }


def apply(state: ListState, payload: dict) -> ListState:
    """The state after a verified snapshot or diff; ListFormatError (state untouched) if it does not
    fit: another list, a diff from another version, or a checksum that does not match the result."""
    try:
        if payload["list"] != state.name:
            raise ListFormatError(f"this is the list {payload['list']!r}, not {state.name!r}")
        width = int(payload["prefix_bytes"])
        if not 4 <= width <= 32:
            raise ListFormatError("prefixes are 4 to 32 bytes long")
        additions = unpack(payload["additions"], width)
        if payload["kind"] == "snapshot":
            prefixes = sorted(set(additions))
        elif payload["kind"] == "diff":
            if payload["from_version"] != state.version or width != state.prefix_bytes:
                raise ListFormatError(
                    f"the diff starts at version {payload['from_version']}, not {state.version}"
                )
            removal_bytes = base64.b64decode(payload["removals"], validate=True)
            if len(removal_bytes) % 4:
                raise ListFormatError("the removals are not whole 4-byte indices")
            gone = {int.from_bytes(removal_bytes[i : i + 4], "big") for i in range(0, len(removal_bytes), 4)}
            if gone and max(gone) >= len(state.prefixes):
                raise ListFormatError("a removal points past the end of the list")
            kept = [p for i, p in enumerate(state.prefixes) if i not in gone]
            prefixes = sorted(set(kept) | set(additions))
        else:
            raise ListFormatError(f"unknown document kind {payload['kind']!r}")
        if checksum(prefixes) != payload["checksum"]:
            raise ListFormatError("the list's checksum does not match: fetch a snapshot")
        return ListState(
            state.name, width, int(payload["version"]), prefixes, int(payload["min_wait_seconds"])
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ListFormatError):
            raise
        raise ListFormatError(f"the document is malformed: {error}") from None
