"""Settings of the exchange (INHOPE's ICCAM API 3 and OpenMNR federation; see docs/exchange.md)."""

import json
import os

from django.core.exceptions import ImproperlyConfigured

from .env import env_int, env_list

# --- exchange (INHOPE's ICCAM API 3 and OpenMNR federation; see docs/exchange.md) ---
# ICCAM: the base URL (paths are appended), the API user, the client certificate and key INHOPE
# issued (PEM files), the CA that signs ICCAM's server certificate (empty: the system's), and our
# ISO country code (empty: OPENMNR_HOME_COUNTRY). Set OPENMNR_ICCAM_URL and the worker's clock runs a
# cycle (import, then export) every minute.
ICCAM_URL = os.environ.get("OPENMNR_ICCAM_URL", "").strip()
ICCAM_USERNAME = os.environ.get("OPENMNR_ICCAM_USERNAME", "")
ICCAM_PASSWORD = os.environ.get("OPENMNR_ICCAM_PASSWORD", "")
ICCAM_CLIENT_CERT = os.environ.get("OPENMNR_ICCAM_CLIENT_CERT", "")
ICCAM_CLIENT_KEY = os.environ.get("OPENMNR_ICCAM_CLIENT_KEY", "")
ICCAM_CA_CERT = os.environ.get("OPENMNR_ICCAM_CA_CERT", "")
ICCAM_COUNTRY = os.environ.get("OPENMNR_ICCAM_COUNTRY", "").strip().upper()
# Items read from ICCAM's queue per page (ICCAM allows at most 200), and the time one call may take.
ICCAM_MAX_RESULTS = env_int("OPENMNR_ICCAM_MAX_RESULTS", 50)
ICCAM_TIMEOUT_SECONDS = env_int("OPENMNR_ICCAM_TIMEOUT_SECONDS", 30)
# Federation: our Ed25519 signing key (PEM; empty: keys/federation-signing.pem under VAR_DIR, made on
# first use in demo mode only), the time a partner may take to answer, and the hosts a partner may be
# reached on over plain http (tests only: 127.0.0.1).
FEDERATION_SIGNING_KEY = os.environ.get("OPENMNR_FEDERATION_SIGNING_KEY", "")
FEDERATION_TIMEOUT_SECONDS = env_int("OPENMNR_FEDERATION_TIMEOUT_SECONDS", 15)
FEDERATION_ALLOW_HTTP = env_list("OPENMNR_FEDERATION_ALLOW_HTTP", [])

# Blocking and prevention (docs/blocking.md).
BLOCKING_SIGNING_KEY = os.environ.get("OPENMNR_BLOCKING_SIGNING_KEY", "")
BLOCKING_LIST_NAME = os.environ.get("OPENMNR_BLOCKING_LIST_NAME", "csam-urls")
BLOCKING_PREFIX_BYTES = env_int("OPENMNR_BLOCKING_PREFIX_BYTES", 4)
if not 4 <= BLOCKING_PREFIX_BYTES <= 32:
    raise ImproperlyConfigured("OPENMNR_BLOCKING_PREFIX_BYTES must be from 4 to 32")
BLOCKING_MIN_WAIT_SECONDS = env_int("OPENMNR_BLOCKING_MIN_WAIT_SECONDS", 30 * 60)
BLOCKING_KEYWORD_CONFIRMATIONS = env_int("OPENMNR_BLOCKING_KEYWORD_CONFIRMATIONS", 1)
# How often the worker's clock fetches each partner's signed URL-list export (0: never on its own).
BLOCKING_PARTNER_FETCH_SECONDS = env_int("OPENMNR_BLOCKING_PARTNER_FETCH_SECONDS", 60 * 60)
if BLOCKING_PARTNER_FETCH_SECONDS < 0:
    raise ImproperlyConfigured("OPENMNR_BLOCKING_PARTNER_FETCH_SECONDS must be 0 or more")
# The help services the deterrence page names: a JSON list of {"name", "description", "phone", "url"}.
BLOCKING_HELP_SERVICES = json.loads(
    os.environ.get("OPENMNR_BLOCKING_HELP_SERVICES")
    or json.dumps(
        [
            {
                "name": "Stop It Now",
                "description": "Confidential, anonymous help for anyone worried about their own sexual "
                "thoughts or behaviour towards children.",
                "phone": "",
                "url": "https://www.stopitnow.org/",
            }
        ]
    )
)
