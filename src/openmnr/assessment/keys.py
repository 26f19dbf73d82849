"""The country's own key for signing its assessment results, and the public keys of peer countries.

The signing key is an Ed25519 private key in a PEM file (``ASSESSMENT_SIGNING_KEY``), made by the
operator with OpenSSL (docs/assessment.md) and protected as a file. In demo mode (``OPENMNR_DEBUG=1``)
a missing key is generated on first use so that `make run` can show signed results. It is a key of
its own, not the hotline's referral key: the national coordinator and the hotline are often
different organisations, and one must not be able to sign in the other's name.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from openmnr.core.referral import KeyFileError, key_fingerprint, load_signing_key

__all__ = ["KeyFileError", "key_fingerprint", "parse_public_key", "public_key_pem", "signing_key"]


def signing_key_path() -> Path:
    return Path(settings.ASSESSMENT_SIGNING_KEY or Path(settings.VAR_DIR) / "keys" / "assessment-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """The country's signing key; raises KeyFileError when it is missing outside demo mode."""
    path = signing_key_path()
    if not path.exists():
        if not settings.DEBUG:
            raise KeyFileError(
                f"no assessment signing key at {path}: make one with OpenSSL and set OPENMNR_ASSESSMENT_SIGNING_KEY"
            )
        _generate(path)
    return load_signing_key(path)


def _generate(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        # O_EXCL: two processes generating at once keep the first key, never a mix.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())


def public_key_pem() -> str:
    """The public half, for peers to configure (and to check packages with OpenSSL)."""
    public = signing_key().public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; raises KeyFileError naming what is wrong."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"this is a {type(key).__name__.removeprefix('_')}, not an Ed25519 public key")
    return key
