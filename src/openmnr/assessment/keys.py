"""The country's own key for signing its assessment results, and the public keys of peer countries.

The signing key is an Ed25519 private key in a PEM file (``ASSESSMENT_SIGNING_KEY``), kept as every
signing key is (`openmnr.common.signing`; docs/assessment.md says how to make it). It is a key of
its own, not the hotline's referral key: the national coordinator and the hotline are often
different organisations, and one must not be able to sign in the other's name.
"""

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from openmnr.common import signing
from openmnr.core.referral import KeyFileError, key_fingerprint

__all__ = ["KeyFileError", "key_fingerprint", "parse_public_key", "public_key_pem", "signing_key"]


def signing_key_path() -> Path:
    return signing.key_path(settings.ASSESSMENT_SIGNING_KEY, "assessment-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """The country's signing key; raises KeyFileError when it is missing outside demo mode."""
    return signing.load_or_generate(
        signing_key_path(), what="assessment signing key", variable="OPENMNR_ASSESSMENT_SIGNING_KEY"
    )


def public_key_pem() -> str:
    """The public half, for peers to configure (and to check packages with OpenSSL)."""
    return signing.public_pem(signing_key()).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; raises KeyFileError naming what is wrong."""
    return signing.parse_public_key(text, Ed25519PublicKey)
