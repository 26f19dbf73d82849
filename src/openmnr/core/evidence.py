"""An encrypted store for the media bytes a hotline acquires as evidence.

When an operator keeps evidence, the fetched bytes must be unreadable to anyone who copies the disk
or a backup, provably unchanged since acquisition, and findable only through the case that refers
to them. So:

- each item is encrypted with AES-256-GCM (``cryptography``) under the operator's key, with a fresh
  random 96-bit nonce per item;
- the file is named by a random id, never by the original name or the content's digest, and the id
  is bound into the encryption as associated data, so a file renamed or swapped with another item
  fails to decrypt;
- the SHA-256 of the plain bytes is computed on acquisition and returned for the case to record;
  every read checks it again, so tampering, a swapped file and a wrong digest all fail loudly;
- a write is atomic and durable: temporary file, fsync, rename, fsync of the folder.

File layout: ``MAGIC`` (8 bytes) | key id (8 bytes) | nonce (12 bytes) | ciphertext and GCM tag.
The key id (a digest of the key, which reveals nothing usable about it) tells a wrong key apart
from tampering. Items are held in memory whole; the fetcher's size cap bounds them.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"OMNREV1\n"
KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID_BYTES = 8
_HEADER_BYTES = len(MAGIC) + _KEY_ID_BYTES + _NONCE_BYTES
_ID_PATTERN = re.compile(r"[0-9a-f]{32}")


class EvidenceError(Exception):
    """Base class of the evidence store's errors."""


class InvalidKey(EvidenceError, ValueError):
    """The key is not 32 bytes, or its text is neither 64 hex digits nor base64 of 32 bytes."""


class EvidenceNotFound(EvidenceError, KeyError):
    """No item has this id (or the id is not one this store could have issued)."""


class IntegrityError(EvidenceError):
    """The item cannot be vouched for: altered, truncated or swapped, stored under another key, or
    its digest is not the one expected."""


class WrongKey(IntegrityError):
    """The item was stored under another key (or its key id was altered)."""


def load_key(text: str) -> bytes:
    """Read a 256-bit key from its text form (as kept in the environment): 64 hex digits, or
    standard or URL-safe base64, with or without padding. Raises ``InvalidKey``."""
    text = text.strip()
    if len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdefABCDEF" for c in text):
        return bytes.fromhex(text)
    try:
        key = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        raise InvalidKey("the evidence key must be 64 hex digits or base64 of 32 bytes") from None
    if len(key) != KEY_BYTES:
        raise InvalidKey(f"the evidence key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


def generate_key() -> str:
    """A new random key in base64, for an operator to put in the environment."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


class EvidenceStore:
    """Encrypted, integrity-checked items in ``directory`` (created with owner-only access)."""

    def __init__(self, directory: str | Path, key: bytes):
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            raise InvalidKey(f"the evidence key must be {KEY_BYTES} bytes (use load_key for its text form)")
        self.directory = Path(directory)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._aead = AESGCM(key)
        self._key_id = hashlib.sha256(b"openmnr evidence key id\0" + key).digest()[:_KEY_ID_BYTES]

    def put(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; return its new id and the SHA-256 (hex) to record with the case."""
        digest = hashlib.sha256(data).hexdigest()
        evidence_id = secrets.token_hex(16)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, bytes(data), _associated_data(evidence_id))
        self._write_atomically(self._path(evidence_id), MAGIC + self._key_id + nonce + sealed)
        return evidence_id, digest

    def get(self, evidence_id: str, expected_sha256: str) -> bytes:
        """Return the item's bytes after checking them against the digest recorded on acquisition.

        Raises ``EvidenceNotFound``, ``WrongKey`` or ``IntegrityError``; never returns bytes that do
        not match ``expected_sha256``.
        """
        path = self._path(evidence_id)
        try:
            stored = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceNotFound(evidence_id) from None
        if len(stored) < _HEADER_BYTES or not stored.startswith(MAGIC):
            raise IntegrityError(f"evidence {evidence_id} is not a readable evidence file")
        key_id = stored[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES]
        if not hmac.compare_digest(key_id, self._key_id):
            raise WrongKey(f"evidence {evidence_id} was stored under another key")
        nonce, sealed = stored[len(MAGIC) + _KEY_ID_BYTES : _HEADER_BYTES], stored[_HEADER_BYTES:]
        try:
            data = self._aead.decrypt(nonce, sealed, _associated_data(evidence_id))
        except InvalidTag:
            raise IntegrityError(f"evidence {evidence_id} has been altered or swapped") from None
        if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), expected_sha256.strip().lower()):
            raise IntegrityError(f"evidence {evidence_id} does not match the digest recorded for it")
        return data

    def delete(self, evidence_id: str) -> None:
        """Remove an item for good (retention); raises ``EvidenceNotFound`` if there is none."""
        try:
            self._path(evidence_id).unlink()
        except FileNotFoundError:
            raise EvidenceNotFound(evidence_id) from None

    def _path(self, evidence_id: str) -> Path:
        # Checking the shape keeps an id from the database from ever naming a path outside the store.
        if not isinstance(evidence_id, str) or not _ID_PATTERN.fullmatch(evidence_id):
            raise EvidenceNotFound(evidence_id)
        # Two-character folders keep any one folder small when millions of items are kept.
        return self.directory / evidence_id[:2] / evidence_id

    @staticmethod
    def _write_atomically(path: Path, content: bytes) -> None:
        if not path.parent.is_dir():
            path.parent.mkdir(mode=0o700, exist_ok=True)
            _fsync_directory(path.parent.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)


def _associated_data(evidence_id: str) -> bytes:
    return b"openmnr evidence v1\0" + evidence_id.encode("ascii")


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX: the folder's entry must reach the disk too)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
