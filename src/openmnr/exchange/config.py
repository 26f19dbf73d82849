"""What the exchange reaches the world with, built from settings: the ICCAM client and our
federation signing key.

ICCAM is configured when OPENMNR_ICCAM_URL is set; the rest of its settings are then required and
checked here, so that `openmnr iccam check` and the cycle say what is missing instead of failing in
the middle of a call. The federation key follows the referral key's pattern: a PEM file made by the
operator, or, in demo mode only, made on first use.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from openmnr.core.exchange.federation import FederationKeyError, key_id, load_private_key, public_key_pem
from openmnr.core.exchange.iccam import IccamClient, IccamConfig


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
    return Path(settings.FEDERATION_SIGNING_KEY or Path(settings.VAR_DIR) / "keys" / "federation-signing.pem")


def signing_key() -> Ed25519PrivateKey:
    """Our federation key; `NotConfigured` when it is missing outside demo mode."""
    path = signing_key_path()
    if not path.exists():
        if not settings.DEBUG:
            raise NotConfigured(
                f"no federation signing key at {path}: make one with OpenSSL and set OPENMNR_FEDERATION_SIGNING_KEY"
            )
        _generate(path)
    try:
        return load_private_key(path)
    except FederationKeyError as exc:
        raise NotConfigured(str(exc)) from None


def own_key_id() -> str:
    return key_id(signing_key().public_key())


def own_public_key_pem() -> str:
    return public_key_pem(signing_key().public_key())


def _generate(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two at once keep the first
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
