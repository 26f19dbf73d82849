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
- ``min_wait_seconds``: how long the client must wait before it asks for the next update (the
  server refuses sooner requests with 429);
- ``oprf_public_key`` (hex, when the server confirms hits by VOPRF): pkS, the public key of the
  server's OPRF scalar. Signed with the list, it binds every confirmation: the client verifies the
  DLEQ proof of each answer against it (``oprf.verify_proof``).

Trade-off: raw prefixes rather than Safe Browsing's Rice-Golomb coding. Sorted random 32-bit values
would shrink to about 45% with Rice coding; raw bytes keep the format readable with ten lines of any
language, and HTTP compression already removes part of the base64 overhead.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "openmnr-urllist/1"
DEFAULT_PREFIX_BYTES = 4


class ListFormatError(ValueError):
    """A list document that cannot be trusted or applied: bad signature, bad shape, wrong checksum."""


def checksum(prefixes: list[bytes]) -> str:
    """SHA-256 of the sorted prefixes, without duplicates, concatenated: the fingerprint of a state."""
    return hashlib.sha256(b"".join(sorted(set(prefixes)))).hexdigest()


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
    oprf_public_key: str = ""  # hex of pkS, from the last signed document


def _sorted_unique(prefixes, width: int) -> bytes:
    """The prefixes sorted, without duplicates, concatenated. 4-byte prefixes go through numpy as
    big-endian uint32 (whose order is the bytes' order): a 1M-entry list sorts in milliseconds."""
    blob = b"".join(prefixes)
    if width == 4:
        array = np.frombuffer(blob, dtype=">u4").astype(np.uint32)  # native order: sorts fastest
        array.sort()
        if len(array):
            array = array[np.concatenate(([True], array[1:] != array[:-1]))]
        return array.astype(">u4").tobytes()
    return b"".join(sorted(set(prefixes)))


def _split_blob(blob: bytes, width: int) -> list[bytes]:
    return [blob[i : i + width] for i in range(0, len(blob), width)]


def _with_key(payload: dict, oprf_public_key: bytes | None) -> dict:
    if oprf_public_key is not None:
        payload["oprf_public_key"] = oprf_public_key.hex()
    return payload


def snapshot_payload(
    name: str,
    version: int,
    prefixes: set[bytes],
    *,
    prefix_bytes: int,
    min_wait: int,
    generated_at: str,
    oprf_public_key: bytes | None = None,
) -> dict:
    blob = _sorted_unique(prefixes, prefix_bytes)
    return _with_key(
        {
            "format": FORMAT,
            "kind": "snapshot",
            "list": name,
            "version": version,
            "prefix_bytes": prefix_bytes,
            "count": len(blob) // prefix_bytes,
            "additions": base64.b64encode(blob).decode("ascii"),
            "checksum": hashlib.sha256(blob).hexdigest(),
            "min_wait_seconds": min_wait,
            "generated_at": generated_at,
        },
        oprf_public_key,
    )


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
    oprf_public_key: bytes | None = None,
) -> dict:
    old_blob = _sorted_unique(old, prefix_bytes)
    new_blob = _sorted_unique(new, prefix_bytes)
    if prefix_bytes == 4:
        old_array = np.frombuffer(old_blob, ">u4").astype(np.uint32)
        new_array = np.frombuffer(new_blob, ">u4").astype(np.uint32)
        removed = np.nonzero(~np.isin(old_array, new_array, assume_unique=True))[0].astype(">u4").tobytes()
        added = np.setdiff1d(new_array, old_array, assume_unique=True).astype(">u4").tobytes()
    else:
        kept = set(_split_blob(new_blob, prefix_bytes))
        old_sorted = _split_blob(old_blob, prefix_bytes)
        removed = b"".join(i.to_bytes(4, "big") for i, p in enumerate(old_sorted) if p not in kept)
        added = b"".join(sorted(kept - set(old_sorted)))
    return _with_key(
        {
            "format": FORMAT,
            "kind": "diff",
            "list": name,
            "from_version": from_version,
            "version": version,
            "prefix_bytes": prefix_bytes,
            "count": len(new_blob) // prefix_bytes,
            "additions": base64.b64encode(added).decode("ascii"),
            "removals": base64.b64encode(removed).decode("ascii"),
            "checksum": hashlib.sha256(new_blob).hexdigest(),
            "min_wait_seconds": min_wait,
            "generated_at": generated_at,
        },
        oprf_public_key,
    )


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
            prefixes = additions
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
            prefixes = kept + additions
        else:
            raise ListFormatError(f"unknown document kind {payload['kind']!r}")
        blob = _sorted_unique(prefixes, width)
        prefixes = _split_blob(blob, width)
        if hashlib.sha256(blob).hexdigest() != payload["checksum"]:
            raise ListFormatError("the list's checksum does not match: fetch a snapshot")
        oprf_key = payload.get("oprf_public_key", "")
        if not isinstance(oprf_key, str) or (oprf_key and len(bytes.fromhex(oprf_key)) != 32):
            raise ListFormatError("the OPRF public key is not 32 bytes of hex")
        return ListState(
            state.name, width, int(payload["version"]), prefixes, int(payload["min_wait_seconds"]), oprf_key
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, ListFormatError):
            raise
        raise ListFormatError(f"the document is malformed: {error}") from None


def export_payload(name: str, version: int, expressions, *, generated_at: str) -> dict:
    """A partner export: the expressions themselves (not prefixes), for another hotline that will
    publish them as its own entries. Sent only to partners, under a licence, never to licensees."""
    entries = sorted(set(expressions))
    return {
        "format": FORMAT,
        "kind": "export",
        "list": name,
        "version": version,
        "count": len(entries),
        "entries": entries,
        "generated_at": generated_at,
    }


def read_export(document: dict, public_key: Ed25519PublicKey) -> tuple[int, list[str]]:
    """(version, expressions) of a partner export signed by ``public_key``; ListFormatError otherwise."""
    payload = verify(document, public_key)
    entries = payload.get("entries")
    version = payload.get("version")
    if payload.get("kind") != "export" or not isinstance(version, int) or version < 1:
        raise ListFormatError("the document is not a partner export")
    if not isinstance(entries, list) or not all(isinstance(e, str) and e.isascii() for e in entries):
        raise ListFormatError("the export's entries are not a list of expressions")
    return version, entries
