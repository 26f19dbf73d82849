"""Settings of the industry (CyberTipline-compatible intake at /ispws/, law-enforcement triage)."""

import os
from pathlib import Path

from .base import VAR_DIR
from .env import env_int

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
