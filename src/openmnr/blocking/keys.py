"""The list's Ed25519 signing key (snapshots, diffs, keyword exports) and the OPRF key derived from it.

The key is a PEM file (BLOCKING_SIGNING_KEY), kept as every signing key is
(`openmnr.common.signing`). The OPRF scalar is derived from the same secret (``oprf.derive_key``),
so an operator guards one file; rotating it rotates both, which costs nothing: OPRF outputs are
computed per request and licensees fetch the new public key with the next snapshot's key_id change.
"""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from openmnr.common import signing
from openmnr.core.urllist import oprf


def signing_key_path() -> Path:
    return signing.key_path(settings.BLOCKING_SIGNING_KEY, "blocking-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    return signing.load_or_generate(
        signing_key_path(), what="blocking list signing key", variable="OPENMNR_BLOCKING_SIGNING_KEY"
    )


def public_key_pem() -> bytes:
    return signing.public_pem(signing_key())


def oprf_key() -> bytes:
    raw = signing_key().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return oprf.derive_key(raw)


def oprf_public_key() -> bytes:
    """pkS, published in every signed snapshot and diff so licensees verify each confirmation."""
    return oprf.public_key(oprf_key())
