"""The list's Ed25519 signing key (snapshots, diffs, keyword exports) and the OPRF key derived from it.

The key is a PEM file (BLOCKING_SIGNING_KEY); in demo mode a missing key is generated on first use,
as the referral key is. The OPRF scalar is derived from the same secret (``oprf.derive_key``), so an
operator guards one file; rotating it rotates both, which costs nothing: OPRF outputs are computed
per request and licensees fetch the new public key with the next snapshot's key_id change.
"""

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from openmnr.core.referral import KeyFileError, load_signing_key
from openmnr.core.urllist import oprf


def signing_key_path() -> Path:
    return Path(settings.BLOCKING_SIGNING_KEY or Path(settings.VAR_DIR) / "keys" / "blocking-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    path = signing_key_path()
    if not path.exists():
        if not settings.DEBUG:
            raise KeyFileError(
                f"no blocking list signing key at {path}: make one with OpenSSL and set "
                "OPENMNR_BLOCKING_SIGNING_KEY"
            )
        _generate(path)
    return _load(str(path), path.stat().st_mtime_ns)


@cache
def _load(path: str, mtime: int) -> Ed25519PrivateKey:
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


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def oprf_key() -> bytes:
    raw = signing_key().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return oprf.derive_key(raw)
