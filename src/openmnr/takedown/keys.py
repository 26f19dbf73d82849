"""The hotline's referral signing key, and law-enforcement recipient keys.

The signing key is an Ed25519 private key in a PEM file (REFERRAL_SIGNING_KEY). In production the
operator makes it with OpenSSL (docs/takedown.md) and protects the file; in demo mode
(OPENMNR_DEBUG=1) a missing key is generated on first use so that `make run` can show referrals.
Recipient keys are X25519 public keys pasted into the directory as PEM text.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django.conf import settings

from openmnr.core.referral import KeyFileError, load_signing_key


def signing_key_path() -> Path:
    return Path(settings.REFERRAL_SIGNING_KEY or Path(settings.VAR_DIR) / "keys" / "referral-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """The hotline's signing key; raises KeyFileError when it is missing outside demo mode."""
    path = signing_key_path()
    if not path.exists():
        if not settings.DEBUG:
            raise KeyFileError(
                f"no referral signing key at {path}: make one with OpenSSL and set OPENMNR_REFERRAL_SIGNING_KEY"
            )
        _generate(path)
    return load_signing_key(path)


def _generate(path) -> None:
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


def public_key_pem() -> bytes:
    """The public half, for law enforcement to verify packages with `openmnr referral verify`."""
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def parse_recipient_key(text: str) -> X25519PublicKey:
    """An X25519 public key from PEM text; raises KeyFileError naming what is wrong."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, X25519PublicKey):
        raise KeyFileError(f"this is a {type(key).__name__.removeprefix('_')}, not an X25519 public key")
    return key
