"""Settings of the takedown (hosting trace, notices, monitoring, referrals, removal statistics)."""

import os

from .env import env_bool, env_int, env_list

# --- takedown (hosting trace, notices, monitoring, referrals, removal statistics) ---
# The country this hotline serves (ISO 3166-1 alpha-2): content hosted here is noticed to the host
# and referred to national law enforcement; content hosted elsewhere goes to a partner hotline.
TAKEDOWN_HOME_COUNTRY = os.environ.get("OPENMNR_HOME_COUNTRY", "PT").strip().upper()
# Hosting trace sources. MaxMind-format databases (GeoLite2-ASN / -Country layouts) kept fresh by the
# operator; either may be left empty. RDAP: one base URL (a redirector) or a folder holding IANA's
# bootstrap files dns.json, ipv4.json, ipv6.json; neither set means no RDAP lookups.
TAKEDOWN_ASN_DB = os.environ.get("OPENMNR_ASN_MMDB", "")
TAKEDOWN_COUNTRY_DB = os.environ.get("OPENMNR_COUNTRY_MMDB", "")
TAKEDOWN_RDAP_BASE_URL = os.environ.get("OPENMNR_RDAP_BASE_URL", "")
TAKEDOWN_RDAP_BOOTSTRAP_DIR = os.environ.get("OPENMNR_RDAP_BOOTSTRAP_DIR", "")
TAKEDOWN_RDAP_TIMEOUT = env_int("OPENMNR_RDAP_TIMEOUT_SECONDS", 10)
# DNS servers for traces and availability checks (comma-separated addresses); empty: the system's.
TAKEDOWN_DNS_NAMESERVERS = env_list("OPENMNR_DNS_NAMESERVERS", [])
TAKEDOWN_DNS_PORT = env_int("OPENMNR_DNS_PORT", 53)
# The operator's own copy of the CDN catalogue; empty: the one packaged with OpenMNR.
TAKEDOWN_CDN_FILE = os.environ.get("OPENMNR_CDN_FILE", "")
# The notice cadence (openmnr.core.takedown.schedule.Cadence); docs/takedown.md explains each.
TAKEDOWN_FIRST_NOTICE_KNOWN_MINUTES = env_int("OPENMNR_TAKEDOWN_FIRST_NOTICE_KNOWN_MINUTES", 0)
TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = env_int("OPENMNR_TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES", 60)
TAKEDOWN_REPEAT_HOURS = env_int("OPENMNR_TAKEDOWN_REPEAT_HOURS", 24)
TAKEDOWN_ESCALATE_AFTER = env_int("OPENMNR_TAKEDOWN_ESCALATE_AFTER", 3)  # 0: never escalate
TAKEDOWN_CHECK_MINUTES = env_int("OPENMNR_TAKEDOWN_CHECK_MINUTES", 120)
TAKEDOWN_RETRACE_HOURS = env_int("OPENMNR_TAKEDOWN_RETRACE_HOURS", 12)
# After a delivery failure (SMTP or webhook down) the case is looked at again this much later.
TAKEDOWN_RETRY_MINUTES = env_int("OPENMNR_TAKEDOWN_RETRY_MINUTES", 5)
# Notices: who sends them, the address their acknowledgement links start with, how long a link
# works, the prefix of notice references, and the webhook timeout.
TAKEDOWN_OPERATOR_NAME = os.environ.get("OPENMNR_OPERATOR_NAME", "OpenMNR hotline")
TAKEDOWN_FROM_EMAIL = os.environ.get("OPENMNR_TAKEDOWN_FROM_EMAIL", "notices@hotline.invalid")
TAKEDOWN_PUBLIC_URL = os.environ.get("OPENMNR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
TAKEDOWN_ACK_DAYS = env_int("OPENMNR_TAKEDOWN_ACK_DAYS", 30)
TAKEDOWN_REFERENCE_PREFIX = os.environ.get("OPENMNR_TAKEDOWN_REFERENCE_PREFIX", "NTD")
TAKEDOWN_WEBHOOK_TIMEOUT = env_int("OPENMNR_TAKEDOWN_WEBHOOK_TIMEOUT_SECONDS", 10)
# Webhooks go to https:// addresses only, except to the hosts listed here (tests: 127.0.0.1).
TAKEDOWN_WEBHOOK_ALLOW_HTTP = env_list("OPENMNR_TAKEDOWN_WEBHOOK_ALLOW_HTTP", [])
# Outgoing mail: Django's SMTP backend (Django 6.1 MAILERS).
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": os.environ.get("OPENMNR_EMAIL_HOST", "localhost"),
            "port": env_int("OPENMNR_EMAIL_PORT", 25),
            "username": os.environ.get("OPENMNR_EMAIL_USER", ""),
            "password": os.environ.get("OPENMNR_EMAIL_PASSWORD", ""),
            "use_tls": env_bool("OPENMNR_EMAIL_STARTTLS", False),
            "use_ssl": env_bool("OPENMNR_EMAIL_SSL", False),
            "timeout": env_int("OPENMNR_EMAIL_TIMEOUT_SECONDS", 20),
        },
    }
}
# Referral packages: the hotline's Ed25519 signing key (PEM; in demo mode one is made on first use),
# where packages are kept, and whether kept evidence goes into them (always encrypted to the
# law-enforcement recipient's key).
# Empty paths mean keys/referral-signing.pem and referrals/ under VAR_DIR, resolved when used.
REFERRAL_SIGNING_KEY = os.environ.get("OPENMNR_REFERRAL_SIGNING_KEY", "")
REFERRAL_DIR = os.environ.get("OPENMNR_REFERRAL_DIR", "")
REFERRAL_INCLUDE_EVIDENCE = env_bool("OPENMNR_REFERRAL_INCLUDE_EVIDENCE", False)
