"""Ed25519 signing keys kept as PEM files, one per purpose, and public keys pasted as PEM text.

Three apps sign what they publish: the hotline's referral packages (takedown), the country's
assessment results (assessment) and the URL and keyword lists (blocking). Each has a key of its own,
because they are often run by different organisations and one must not sign in another's name; the
way a key is kept is the same for all, and lives here:

- The key is an unencrypted PKCS#8 PEM file whose path is a setting; the operator makes it with
  OpenSSL and protects the file (mode 600), not the PEM.
- In demo mode (``DEBUG``) a missing key is generated on first use, so that `make run` shows signed
  results. It is created with ``O_EXCL`` and mode 600 and synced before anyone reads it: two
  processes generating at once keep the first key, never a mix of two.
- Outside demo mode a missing key is a `KeyFileError` that names the file and the variable to set,
  never a silently generated key that nobody else holds.
- A loaded key is cached per (path, modification time): signing many list diffs does not re-read
  the file, and a key the operator replaces takes effect at the next use.
"""

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django.conf import settings

from openmnr.core.referral import KeyFileError, load_signing_key

__all__ = ["KeyFileError", "key_path", "load_or_generate", "parse_public_key", "public_pem"]


def key_path(configured: str | os.PathLike | None, default_name: str) -> Path:
    """The configured path, or ``var/keys/<default_name>`` when the setting is empty."""
    return Path(configured or Path(settings.VAR_DIR) / "keys" / default_name)


def load_or_generate(path: Path, *, what: str, variable: str) -> Ed25519PrivateKey:
    """The Ed25519 key at ``path``; generated there first in demo mode, `KeyFileError` otherwise.

    ``what`` names the key for the operator ("referral signing key") and ``variable`` the environment
    variable that points at it (``OPENMNR_REFERRAL_SIGNING_KEY``).
    """
    if not path.exists():
        if not settings.DEBUG:
            raise KeyFileError(f"no {what} at {path}: make one with OpenSSL and set {variable}")
        _generate(path)
    return _load(str(path), path.stat().st_mtime_ns)


def public_pem(key: Ed25519PrivateKey) -> bytes:
    """The public half as SubjectPublicKeyInfo PEM, for those who verify what the key signs."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def parse_public_key[K: (Ed25519PublicKey, X25519PublicKey)](text: str, kind: type[K]) -> K:
    """A public key of ``kind`` from PEM text; raises KeyFileError naming what is wrong."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, kind):
        wanted = "an Ed25519" if kind is Ed25519PublicKey else "an X25519"
        raise KeyFileError(f"this is a {type(key).__name__.removeprefix('_')}, not {wanted} public key")
    return key


@cache
def _load(path: str, mtime_ns: int) -> Ed25519PrivateKey:
    return load_signing_key(path)


def _generate(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
