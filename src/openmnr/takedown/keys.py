"""The hotline's referral signing key, and law-enforcement recipient keys.

The signing key is an Ed25519 private key in a PEM file (REFERRAL_SIGNING_KEY), kept as every
signing key is (`openmnr.common.signing`: made with OpenSSL in production, generated on first use in
demo mode so that `make run` can show referrals). Recipient keys are X25519 public keys pasted into
the directory as PEM text.
"""

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django.conf import settings

from openmnr.common import signing


def signing_key_path() -> Path:
    return signing.key_path(settings.REFERRAL_SIGNING_KEY, "referral-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """The hotline's signing key; raises KeyFileError when it is missing outside demo mode."""
    return signing.load_or_generate(
        signing_key_path(), what="referral signing key", variable="OPENMNR_REFERRAL_SIGNING_KEY"
    )


def public_key_pem() -> bytes:
    """The public half, for law enforcement to verify packages with `openmnr referral verify`."""
    return signing.public_pem(signing_key())


def parse_recipient_key(text: str) -> X25519PublicKey:
    """An X25519 public key from PEM text; raises KeyFileError naming what is wrong."""
    return signing.parse_public_key(text, X25519PublicKey)
