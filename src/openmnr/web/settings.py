"""OpenMNR settings: the one place configuration is read, always from the environment.

Production is the default. The local demo's settings (a generated SECRET_KEY, OPENMNR_DEBUG=1,
OPENMNR_HTTPS=0) are in var/local.env, which `make run` writes and which is read here when it
exists, the environment taking precedence; nothing else turns the safeguards off. Every variable
is listed in docs/configuration.md.
"""

import json
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def read_local_settings(path: Path) -> dict[str, str]:
    """The KEY=value lines of the local demo's settings file (openmnr.commands.local_settings),
    or {} when there is none. It may hold only SECRET_KEY, DATABASE_URL and OPENMNR_* variables,
    and must be readable by its owner only, since it holds the secret key."""
    if not path.is_file():
        return {}
    if path.stat().st_mode & 0o077:
        raise ImproperlyConfigured(
            f"{path} holds the secret key: make it readable by its owner only (chmod 600)"
        )
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not (name in ("SECRET_KEY", "DATABASE_URL") or name.startswith("OPENMNR_")):
            raise ImproperlyConfigured(
                f"{path}, line {number}: expected SECRET_KEY, DATABASE_URL or OPENMNR_*=value"
            )
        found[name] = value.strip()
    return found


# Where the code lives, and where this installation keeps its data (SQLite, evidence, index files).
SRC_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OPENMNR_VAR_DIR") or Path.cwd() / "var").resolve()

# The local demo's settings, under what the environment says. Not under pytest: the suite tests the
# production defaults, whatever demo ran in the same checkout.
if "PYTEST_VERSION" not in os.environ:
    for _name, _value in read_local_settings(VAR_DIR / "local.env").items():
        os.environ.setdefault(_name, _value)

DEBUG = env_bool("OPENMNR_DEBUG", False)
# TLS is on unless the demo turns it off: the test client and the local demo speak plain HTTP.
HTTPS = env_bool("OPENMNR_HTTPS", not DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # pytest sets PYTEST_VERSION; the suite must run without secrets in the environment.
    if not DEBUG and "PYTEST_VERSION" not in os.environ:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment (at least 50 random characters)"
        )
    SECRET_KEY = "insecure-development-key-" + "x" * 40  # demo and tests only; never used in production

ALLOWED_HOSTS = env_list("OPENMNR_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("OPENMNR_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "openmnr.web.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks_db",
    "ninja",  # its templates and static files: the API reference page at /api/v1/docs
    "openmnr.web",
    "openmnr.accounts",
    "openmnr.audit",
    "openmnr.banks",
    "openmnr.hotline",
    "openmnr.takedown",
    "openmnr.assessment",
    "openmnr.industry",
    "openmnr.survivors",
    "openmnr.exchange",
    "openmnr.blocking",
    "openmnr.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "openmnr.web.middleware.RequestIdMiddleware",
    "openmnr.web.middleware.ApiErrorShapeMiddleware",
    "openmnr.web.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "openmnr.accounts.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "openmnr.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "openmnr.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "openmnr.web.urls"
WSGI_APPLICATION = "openmnr.web.wsgi.application"
ASGI_APPLICATION = "openmnr.web.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "openmnr.web.context_processors.staff_navigation",
            ],
            "builtins": ["openmnr.web.templatetags.display"],
        },
    },
]

# Databases: DATABASE_URL (PostgreSQL in production), otherwise SQLite under var/.
# SQLite runs in WAL mode with synchronous=FULL so that an acknowledged write survives a power cut,
# and with IMMEDIATE transactions so concurrent writers queue instead of failing on lock upgrade.
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
    }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite cannot create the folder its file lives in
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "openmnr.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: tests with several threads or processes need a shared database.
            "TEST": {"NAME": VAR_DIR / "test-openmnr.sqlite3"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

# Accounts and sign-in.
AUTH_USER_MODEL = "auth.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "staff-home"
LOGOUT_REDIRECT_URL = "landing"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = os.environ.get("OPENMNR_OTP_ISSUER", "OpenMNR")
# Failed sign-ins per (username, client address) pair before a cool-off; the pair, not the username
# alone, so that nobody can lock an analyst out from elsewhere.
SIGN_IN_MAX_FAILURES = env_int("OPENMNR_SIGN_IN_MAX_FAILURES", 5)
SIGN_IN_COOL_OFF_SECONDS = env_int("OPENMNR_SIGN_IN_COOL_OFF_SECONDS", 15 * 60)
STEP_UP_SECONDS = env_int("OPENMNR_STEP_UP_SECONDS", 5 * 60)
# API calls a staff user's session may make a minute (keys have their own limit each).
API_SESSION_CALLS_PER_MINUTE = env_int("OPENMNR_API_SESSION_CALLS_PER_MINUTE", 120)
# How long each process trusts a successful API key check (the key, its owner's permissions and
# roles); a revocation, a deactivated owner or a changed role empties the cache of the process that
# made the change at once and reaches the other processes within this time. 0 checks every call.
API_KEY_CACHE_SECONDS = env_int("OPENMNR_API_KEY_CACHE_SECONDS", 5)
# Administrators never see second-factor secrets in the administration site.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# The sender of account notices (a password or second factor reset by an administrator).
ACCOUNTS_FROM_EMAIL = os.environ.get("OPENMNR_ACCOUNTS_FROM_EMAIL", "accounts@hotline.invalid")

# Sessions: 30 minutes of inactivity, 12 hours at most.
SESSION_COOKIE_AGE = env_int("OPENMNR_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = env_int("OPENMNR_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Transport security. The __Host- prefix pins cookies to this host, path / and HTTPS.
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("OPENMNR_HSTS_SECONDS", 63072000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("OPENMNR_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
if env_bool("OPENMNR_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: same-origin only, scripts need the per-response nonce, no inline style.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Request bodies are refused with 413 before they are read when larger than this; media uploads
# (the largest legitimate bodies) are capped by openmnr.core.media at 50 MiB.
MAX_REQUEST_BYTES = env_int("OPENMNR_MAX_REQUEST_BYTES", 52 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("OPENMNR_MAX_FORM_BYTES", 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# Audit: whether the client address of staff and API callers is recorded (public reporters never).
AUDIT_CLIENT_ADDRESS = env_bool("OPENMNR_AUDIT_CLIENT_ADDRESS", True)
# The audit chain's HMAC key, kept out of the database: OPENMNR_AUDIT_KEY (its text) or
# OPENMNR_AUDIT_KEY_FILE (a file holding it). Production refuses to start without one, as without
# SECRET_KEY; the demo and the tests generate a key file under var/keys/ on first use.
AUDIT_KEY = os.environ.get("OPENMNR_AUDIT_KEY", "")
AUDIT_KEY_FILE = os.environ.get("OPENMNR_AUDIT_KEY_FILE", "")
AUDIT_KEY_GENERATE = False
if not AUDIT_KEY and not AUDIT_KEY_FILE:
    if not DEBUG and "PYTEST_VERSION" not in os.environ:
        raise ImproperlyConfigured(
            "OPENMNR_AUDIT_KEY or OPENMNR_AUDIT_KEY_FILE must be set (make a key with `openmnr audit key`)"
        )
    AUDIT_KEY_FILE = str(VAR_DIR / "keys" / "audit.key")
    AUDIT_KEY_GENERATE = True
elif not AUDIT_KEY and not Path(AUDIT_KEY_FILE).is_file():
    raise ImproperlyConfigured(f"OPENMNR_AUDIT_KEY_FILE names {AUDIT_KEY_FILE}, which does not exist")
# Signed checkpoints of the chain's head, written outside the database (by the worker's clock every
# minute the chain grew, and by `openmnr audit checkpoint`); `openmnr audit verify` checks the chain
# against the latest. Put the folder on other storage than the database, or ship it elsewhere.
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("OPENMNR_AUDIT_CHECKPOINT_DIR") or VAR_DIR / "audit-checkpoints")
# A witness outside this machine: each checkpoint is also sent to syslog ("/dev/log", or "host:port"
# over UDP). Empty: no witness.
AUDIT_SYSLOG = os.environ.get("OPENMNR_AUDIT_SYSLOG", "")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [SRC_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Static files are served straight from the apps' static/ folders: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
# Files served at the site's root: /favicon.ico, which browsers ask for on every first visit.
WHITENOISE_ROOT = SRC_DIR / "web" / "root"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENMNR_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# --- assessment (MNR self-assessment) ---
# Evidence documents uploaded by contributors: stored under VAR_DIR with random names, at most this
# many bytes each (the type is sniffed from the content; see openmnr.assessment.documents).
ASSESSMENT_EVIDENCE_DIR = VAR_DIR / "assessment-evidence"
ASSESSMENT_EVIDENCE_MAX_BYTES = env_int("OPENMNR_ASSESSMENT_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024)
# The country's Ed25519 key for signing its assessment results (PEM; empty means
# keys/assessment-signing.pem under VAR_DIR, made on first use in demo mode only), and the largest
# signed results file accepted from another country.
ASSESSMENT_SIGNING_KEY = os.environ.get("OPENMNR_ASSESSMENT_SIGNING_KEY", "")
ASSESSMENT_RESULTS_MAX_BYTES = env_int("OPENMNR_ASSESSMENT_RESULTS_MAX_BYTES", 50 * 1024 * 1024)

# --- banks (hash banks, four eyes, matching) ---
# Different senior analysts who must confirm an entry (or an import) before it enters a bank of
# confirmed material. Two is the four-eyes rule; fewer than two is refused.
BANKS_CONFIRMATIONS_REQUIRED = env_int("OPENMNR_BANKS_CONFIRMATIONS", 2)
if BANKS_CONFIRMATIONS_REQUIRED < 2:
    raise ImproperlyConfigured("OPENMNR_BANKS_CONFIRMATIONS must be at least 2 (four eyes)")
# PDQ match radius (Hamming distance, 0-63); 31 is ThreatExchange's confident-match threshold.
BANKS_PDQ_RADIUS = env_int("OPENMNR_BANKS_PDQ_RADIUS", 31)
# Query probes for every picture matched (the match API and page, triage, availability checks):
# the picture turned by 90/180/270 degrees and mirrored, and the picture inside a solid or blurred
# border, each hashed and looked up with it (openmnr.core.robust.probes; docs/matching.md).
MATCH_DIHEDRAL = env_bool("OPENMNR_MATCH_DIHEDRAL", True)
MATCH_TRIM = env_bool("OPENMNR_MATCH_TRIM", True)
# How often, at most, a process checks the index change log before answering a match.
BANKS_POLL_SECONDS = float(env_int("OPENMNR_BANKS_POLL_MILLISECONDS", 1000)) / 1000
# Different near-variants of one stored hash (matches at a distance above zero) one caller may try
# in a clock hour before its match calls are refused: a limit on using the answers as an inversion
# oracle (openmnr.banks.variants).
BANKS_NEAR_VARIANTS_PER_HOUR = env_int("OPENMNR_BANKS_NEAR_VARIANTS_PER_HOUR", 32)
# Items (uploads or signal sets) one match or hash call may carry.
BANKS_MATCH_BATCH_MAX = env_int("OPENMNR_BANKS_MATCH_BATCH_MAX", 100)
# Decode uploaded images in a child process with memory and time limits (see openmnr.core.media).
BANKS_ISOLATE_DECODE = env_bool("OPENMNR_BANKS_ISOLATE_DECODE", True)
# Decoder processes kept waiting in each server process for the next isolated decode
# (openmnr.core.decoders); 0 starts a fresh child for every decode, the slower way of old.
DECODERS_IDLE = env_int("OPENMNR_DECODERS_IDLE", 2)
if DECODERS_IDLE < 0:
    raise ImproperlyConfigured("OPENMNR_DECODERS_IDLE must be 0 or more")
# Index snapshots that each process loads at start before following the change log.
BANKS_INDEX_DIR = VAR_DIR / "index"

# --- hotline (public reports, triage, analyst queue) ---
# Addresses the safe fetcher may reach although they are not public. For tests only (a test server
# on 127.0.0.1); empty in production, where every private, loopback or reserved address is refused.
FETCH_ALLOW_PRIVATE = env_list("OPENMNR_FETCH_ALLOW_PRIVATE", [])
# Media bytes are kept (encrypted, AES-256-GCM) only when the operator turns this on and gives a key;
# otherwise triage keeps signals only. Generate a key: python -c "from openmnr.core.evidence import
# generate_key; print(generate_key())".
EVIDENCE_KEY = os.environ.get("OPENMNR_EVIDENCE_KEY", "")
KEEP_EVIDENCE = env_bool("OPENMNR_KEEP_EVIDENCE", False)
if KEEP_EVIDENCE and not EVIDENCE_KEY:
    raise ImproperlyConfigured("OPENMNR_KEEP_EVIDENCE=1 needs OPENMNR_EVIDENCE_KEY (32 bytes, hex or base64)")
EVIDENCE_DIR = Path(os.environ.get("OPENMNR_EVIDENCE_DIR") or VAR_DIR / "evidence")
HOTLINE_REPORTS_PER_HOUR = env_int("OPENMNR_HOTLINE_REPORTS_PER_HOUR", 20)
HOTLINE_MAX_URLS_PER_REPORT = env_int("OPENMNR_HOTLINE_MAX_URLS_PER_REPORT", 20)
HOTLINE_MAX_MEDIA_PER_URL = env_int("OPENMNR_HOTLINE_MAX_MEDIA_PER_URL", 50)
HOTLINE_FETCH_ATTEMPTS = env_int("OPENMNR_HOTLINE_FETCH_ATTEMPTS", 3)
HOTLINE_STALLED_MINUTES = env_int("OPENMNR_HOTLINE_STALLED_MINUTES", 15)
# The national classification scheme, most severe first, and the apparent age groups, youngest
# first: comma-separated `code` or `code:Label` items.
HOTLINE_CATEGORIES = env_list("OPENMNR_HOTLINE_CATEGORIES", ["A", "B", "C"])
HOTLINE_AGE_GROUPS = env_list(
    "OPENMNR_HOTLINE_AGE_GROUPS", ["infant_toddler", "prepubescent", "pubescent", "unknown"]
)
# The protective viewer: how long one reveal counts at most, and the daily exposure that warns.
# INTERPOL's baseline: the apparent age groups that count as prepubescent (youngest first).
HOTLINE_BASELINE_AGE_GROUPS = env_list(
    "OPENMNR_HOTLINE_BASELINE_AGE_GROUPS", ["infant_toddler", "prepubescent"]
)
# Whether virtual material (drawn, CGI, AI-generated) can be nationally illegal under this country's law.
HOTLINE_VIRTUAL_CAN_BE_ILLEGAL = env_bool("OPENMNR_HOTLINE_VIRTUAL_CAN_BE_ILLEGAL", True)
# The law-enforcement hold (docs/hotline.md): outcomes held for the police automatically, each
# "assessment" or "assessment:HOURS:release|escalate" (its own unanswered rule), and the default of how
# long the police have to answer and what an unanswered hold does then ("release" or "escalate").
HOTLINE_HOLD_ASSESSMENTS = env_list("OPENMNR_HOTLINE_HOLD_ASSESSMENTS", [])
for _rule in HOTLINE_HOLD_ASSESSMENTS:
    if not re.fullmatch(r"(baseline|nationally_illegal)(:[1-9][0-9]{0,4}:(release|escalate))?", _rule):
        raise ImproperlyConfigured(
            f"OPENMNR_HOTLINE_HOLD_ASSESSMENTS: {_rule!r} is not ASSESSMENT or ASSESSMENT:HOURS:release|escalate"
        )
HOTLINE_HOLD_ANSWER_HOURS = env_int("OPENMNR_HOTLINE_HOLD_ANSWER_HOURS", 72)
HOTLINE_HOLD_UNANSWERED = os.environ.get("OPENMNR_HOTLINE_HOLD_UNANSWERED", "") or "escalate"
if HOTLINE_HOLD_UNANSWERED not in ("release", "escalate"):
    raise ImproperlyConfigured("OPENMNR_HOTLINE_HOLD_UNANSWERED must be release or escalate")
# Help shown on the answer page after a report (docs/configuration.md): "Name|how to reach it" items,
# separated by ";" (a helpline, the police, a take-down service for young people).
HOTLINE_HELP = [
    tuple(part.strip() for part in item.split("|", 1)) if "|" in item else (item.strip(), "")
    for item in (
        os.environ.get("OPENMNR_HOTLINE_HELP", "")
        or (
            "Your local police|call the emergency number if a child is in danger now;"
            "A child helpline|in many countries 116 111, free and confidential;"
            "Take It Down (NCMEC), for young people whose images are shared|https://takeitdown.ncmec.org"
        )
    ).split(";")
    if item.strip()
]
HOTLINE_REVEAL_SECONDS = env_int("OPENMNR_HOTLINE_REVEAL_SECONDS", 120)
HOTLINE_EXPOSURE_MINUTES_PER_DAY = env_int("OPENMNR_HOTLINE_EXPOSURE_MINUTES_PER_DAY", 60)

# --- live (the live-stream monitor, `openmnr live serve`; docs/live.md) ---
# Streams to pull (rtmp://, rtsp://, tcp://, udp://, http(s):// HLS) and addresses to receive
# published streams on (rtmp://, rtsp://, tcp:// with the port to listen on), comma-separated.
LIVE_STREAMS = env_list("OPENMNR_LIVE_STREAMS", [])
LIVE_LISTEN = env_list("OPENMNR_LIVE_LISTEN", [])
# Sampled frames per second of stream (besides scene changes), and the alert rule: K of the last W
# sampled frames match. The defaults are justified by bench/live.py in docs/live.md.
LIVE_SAMPLE_RATE = env_int("OPENMNR_LIVE_SAMPLE_RATE", 2)
LIVE_ALERT_K = env_int("OPENMNR_LIVE_ALERT_K", 2)
LIVE_ALERT_W = env_int("OPENMNR_LIVE_ALERT_W", 4)
if not 1 <= LIVE_ALERT_K <= LIVE_ALERT_W:
    raise ImproperlyConfigured("OPENMNR_LIVE_ALERT_K must be between 1 and OPENMNR_LIVE_ALERT_W")
# Seconds without data before a stream counts as stalled and is reconnected.
LIVE_READ_TIMEOUT = env_int("OPENMNR_LIVE_READ_TIMEOUT_SECONDS", 10)
# Alerts go to this webhook (signed with the secret, as takedown's are); empty: none.
LIVE_WEBHOOK_URL = os.environ.get("OPENMNR_LIVE_WEBHOOK_URL", "")
LIVE_WEBHOOK_SECRET = os.environ.get("OPENMNR_LIVE_WEBHOOK_SECRET", "")
if LIVE_WEBHOOK_URL and not LIVE_WEBHOOK_SECRET:
    raise ImproperlyConfigured("OPENMNR_LIVE_WEBHOOK_URL needs OPENMNR_LIVE_WEBHOOK_SECRET")
LIVE_WEBHOOK_TIMEOUT = env_int("OPENMNR_LIVE_WEBHOOK_TIMEOUT_SECONDS", 10)
# Webhooks go to https:// addresses only, except to the hosts listed here (tests: 127.0.0.1).
LIVE_WEBHOOK_ALLOW_HTTP = env_list("OPENMNR_LIVE_WEBHOOK_ALLOW_HTTP", [])
# The reveal buffer (docs/live.md), off by default (0): seconds of sampled frames the monitor keeps
# sealed (AES-256-GCM under OPENMNR_LIVE_BUFFER_KEY, 32 random bytes in URL-safe base64) and sends
# with an alert; the platform keeps them sealed for LIVE_REVEAL_KEEP_SECONDS, then deletes them.
LIVE_REVEAL_BUFFER_SECONDS = env_int("OPENMNR_LIVE_REVEAL_BUFFER_SECONDS", 0)
LIVE_BUFFER_KEY = os.environ.get("OPENMNR_LIVE_BUFFER_KEY", "")
if LIVE_REVEAL_BUFFER_SECONDS > 0:
    import base64
    import binascii

    try:
        _live_key_bytes = len(base64.urlsafe_b64decode(LIVE_BUFFER_KEY.strip().encode()))
    except (binascii.Error, ValueError):
        _live_key_bytes = 0
    if _live_key_bytes != 32:
        raise ImproperlyConfigured(
            "OPENMNR_LIVE_REVEAL_BUFFER_SECONDS needs OPENMNR_LIVE_BUFFER_KEY: 32 random bytes, URL-safe base64"
        )
LIVE_REVEAL_KEEP_SECONDS = env_int("OPENMNR_LIVE_REVEAL_KEEP_SECONDS", 24 * 3600)

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

# --- industry (CyberTipline-compatible intake at /ispws/, law-enforcement triage) ---
# One uploaded file at most (50 MiB, the media decoder's cap, by default); the upload request may
# be this much plus some multipart overhead, and is refused with 413 from its Content-Length.
INDUSTRY_MAX_FILE_BYTES = env_int("OPENMNR_INDUSTRY_MAX_FILE_BYTES", 50 * 1024 * 1024)
INDUSTRY_MULTIPART_SLACK_BYTES = 64 * 1024
INDUSTRY_MAX_XML_BYTES = env_int("OPENMNR_INDUSTRY_MAX_XML_BYTES", 4 * 1024 * 1024)
INDUSTRY_MAX_FILES_PER_REPORT = env_int("OPENMNR_INDUSTRY_MAX_FILES_PER_REPORT", 1000)
# Where uploads are streamed while they are hashed (deleted right after; owner-only folder).
INDUSTRY_SPOOL_DIR = Path(os.environ.get("OPENMNR_INDUSTRY_SPOOL_DIR") or VAR_DIR / "industry-spool")
# NCMEC's lifecycle: an unfinished report expires this long after opening or after its last change,
# whichever is later.
INDUSTRY_OPEN_HOURS = env_int("OPENMNR_INDUSTRY_OPEN_HOURS", 24)
INDUSTRY_IDLE_HOURS = env_int("OPENMNR_INDUSTRY_IDLE_HOURS", 1)
# How long each process trusts a successful /ispws/ credential check (a revocation takes this long to
# reach every process); 0 checks every request against the database.
INDUSTRY_AUTH_CACHE_SECONDS = env_int("OPENMNR_INDUSTRY_AUTH_CACHE_SECONDS", 5)
# --- survivors (the Take it down page: hashes only, from the person's own device) ---
# Per address (counted without keeping it) and per day: new cases, and submissions (a new case or
# pictures added to one). Per case: pictures and videos in all, and added per day. Per submission.
SURVIVORS_CASES_PER_DAY = env_int("OPENMNR_SURVIVORS_CASES_PER_DAY", 3)
SURVIVORS_SUBMISSIONS_PER_DAY = env_int("OPENMNR_SURVIVORS_SUBMISSIONS_PER_DAY", 10)
SURVIVORS_ITEMS_PER_CASE = env_int("OPENMNR_SURVIVORS_ITEMS_PER_CASE", 500)
SURVIVORS_ITEMS_PER_CASE_PER_DAY = env_int("OPENMNR_SURVIVORS_ITEMS_PER_CASE_PER_DAY", 100)
SURVIVORS_ITEMS_PER_SUBMISSION = env_int("OPENMNR_SURVIVORS_ITEMS_PER_SUBMISSION", 50)
# Status look-ups and withdrawals per address per hour (a code is 95 bits: this only slows typing).
SURVIVORS_LOOKUPS_PER_HOUR = env_int("OPENMNR_SURVIVORS_LOOKUPS_PER_HOUR", 30)
# A picture whose hashes already match this many active entries is held for staff review.
SURVIVORS_HOLD_MATCHES = env_int("OPENMNR_SURVIVORS_HOLD_MATCHES", 5)
# Pictures and videos received in the last hour beyond which new ones are held (a flood).
SURVIVORS_FLOOD_ITEMS_PER_HOUR = env_int("OPENMNR_SURVIVORS_FLOOD_ITEMS_PER_HOUR", 500)
# Fernet key (urlsafe base64 of 32 bytes) that encrypts contact addresses. Empty: in demo mode one
# is made under VAR_DIR/keys/ on first use; otherwise the page asks for no contact address.
SURVIVORS_CONTACT_KEY = os.environ.get("OPENMNR_SURVIVORS_CONTACT_KEY", "")
# The sender of the (deliberately vague) update e-mails.
SURVIVORS_FROM_EMAIL = os.environ.get("OPENMNR_SURVIVORS_FROM_EMAIL", "updates@hotline.invalid")
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
