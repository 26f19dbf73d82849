"""What the exchange reaches the world with, built from settings: the ICCAM client and our
federation signing key.

ICCAM is configured when OPENMNR_ICCAM_URL is set; the rest of its settings are then required and
checked here, so that `openmnr iccam check` and the cycle say what is missing instead of failing in
the middle of a call. The federation key is kept as every signing key is (`openmnr.common.signing`): a PEM file made
by the operator, or, in demo mode only, made on first use.
"""

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from openmnr.common import signing
from openmnr.core.exchange.federation import key_id, public_key_pem
from openmnr.core.exchange.iccam import IccamClient, IccamConfig
from openmnr.core.referral import KeyFileError


class NotConfigured(Exception):
    """The exchange is not set up for what was asked (ICCAM settings, the signing key)."""


def iccam_configured() -> bool:
    return bool(settings.ICCAM_URL)


def iccam_country() -> str:
    return (settings.ICCAM_COUNTRY or settings.TAKEDOWN_HOME_COUNTRY).upper()


def iccam_config() -> IccamConfig:
    if not settings.ICCAM_URL:
        raise NotConfigured(
            "ICCAM is not configured: set OPENMNR_ICCAM_URL and the other OPENMNR_ICCAM_* settings"
        )
    missing = [
        name
        for name, value in (
            ("OPENMNR_ICCAM_USERNAME", settings.ICCAM_USERNAME),
            ("OPENMNR_ICCAM_PASSWORD", settings.ICCAM_PASSWORD),
            ("OPENMNR_ICCAM_CLIENT_CERT", settings.ICCAM_CLIENT_CERT),
            ("OPENMNR_ICCAM_CLIENT_KEY", settings.ICCAM_CLIENT_KEY),
        )
        if not value
    ]
    if missing:
        raise NotConfigured(f"ICCAM is missing {', '.join(missing)}")
    return IccamConfig(
        base_url=settings.ICCAM_URL,
        username=settings.ICCAM_USERNAME,
        password=settings.ICCAM_PASSWORD,
        client_cert=settings.ICCAM_CLIENT_CERT,
        client_key=settings.ICCAM_CLIENT_KEY,
        ca_cert=settings.ICCAM_CA_CERT,
        timeout=settings.ICCAM_TIMEOUT_SECONDS,
    )


def iccam_client() -> IccamClient:
    return IccamClient(iccam_config())


def analyst_name() -> str:
    """The name ICCAM shows for our analysts' work: the API user, as SCARt does."""
    return settings.ICCAM_USERNAME or settings.TAKEDOWN_OPERATOR_NAME


def signing_key_path() -> Path:
    return signing.key_path(settings.FEDERATION_SIGNING_KEY, "federation-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """Our federation key; `NotConfigured` when it is missing outside demo mode or unreadable."""
    try:
        return signing.load_or_generate(
            signing_key_path(), what="federation signing key", variable="OPENMNR_FEDERATION_SIGNING_KEY"
        )
    except KeyFileError as exc:
        raise NotConfigured(str(exc)) from None


def own_key_id() -> str:
    return key_id(signing_key().public_key())


def own_public_key_pem() -> str:
    return public_key_pem(signing_key().public_key())
