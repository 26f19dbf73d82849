"""Settings of the hotline (public reports, triage, analyst queue)."""

import os
import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import VAR_DIR
from .env import env_bool, env_int, env_list

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
