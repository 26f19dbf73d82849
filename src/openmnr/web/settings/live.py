"""Settings of the live (the live-stream monitor, `openmnr live serve`; docs/live.md)."""

import os

from django.core.exceptions import ImproperlyConfigured

from .env import env_int, env_list

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
