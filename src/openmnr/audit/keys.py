"""The audit key: the secret under which every audit event's hash is an HMAC.

It is kept out of the database (the environment, ``OPENMNR_AUDIT_KEY``, or a key file,
``OPENMNR_AUDIT_KEY_FILE``), so a copy or a write of the database alone cannot produce a chain that
verifies. Production refuses to start without one (settings.py); the demo and the tests generate a
key file under var/keys/ on first use.

Text form: 64 or more hex digits, or base64 of 32 or more bytes (``openmnr audit key`` prints a new
one). The key id, a digest of the key that reveals nothing usable about it, is written into the
chain's first keyed event and every checkpoint, so a verification under the wrong key says so.
"""

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_BYTES = 32
_cache: dict[tuple, bytes] = {}


def parse(text: str) -> bytes:
    text = text.strip()
    if len(text) >= 2 * KEY_BYTES and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("the audit key must be 64 hex digits or base64 of 32 bytes") from None
    if len(key) < KEY_BYTES:
        raise ImproperlyConfigured(f"the audit key must be at least {KEY_BYTES} bytes, not {len(key)}")
    return key


def generate() -> str:
    """A new random key in base64, for an operator to put in the environment or a key file."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def audit_key() -> bytes:
    """The key in use. Read once per process (per settings, so tests that change them get theirs)."""
    source = (settings.AUDIT_KEY, settings.AUDIT_KEY_FILE, settings.AUDIT_KEY_GENERATE)
    key = _cache.get(source)
    if key is None:
        key = _cache[source] = _load(*source)
    return key


def _load(text: str, file_name: str, generate_missing: bool) -> bytes:
    if text:
        return parse(text)
    path = Path(file_name)
    if not path.exists():
        if not generate_missing:
            raise ImproperlyConfigured(f"no audit key file at {path} (OPENMNR_AUDIT_KEY_FILE)")
        _write_new(path)
    return parse(path.read_text())


def _write_new(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes generating at once keep the first key, never a mix.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as file:
        file.write(generate() + "\n")
        file.flush()
        os.fsync(file.fileno())


def key_id(key: bytes | None = None) -> str:
    return hashlib.sha256(b"openmnr audit key id\0" + (key or audit_key())).hexdigest()[:16]
