"""The platform's own settings: where its data lives, secrets, apps, middleware, the database,
sign-in and sessions, security headers, audit, languages, static files and logging."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from .env import env_bool, env_int, env_list, read_local_settings

# Where the code lives, and where this installation keeps its data (SQLite, evidence, index files).
SRC_DIR = Path(__file__).resolve().parent.parent.parent
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
    # /ispws/ (it authenticates every call itself) runs a shorter chain: see openmnr.web.lean.
    "openmnr.web.lean.LeanPathsMiddleware",
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
            "ENGINE": "openmnr.web.sqlite",  # Django's, with its writers queued
            "NAME": VAR_DIR / "openmnr.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: tests with several threads or processes need a shared database.
            "TEST": {"NAME": VAR_DIR / "test-openmnr.sqlite3"},
            "CONN_MAX_AGE": 60,
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
