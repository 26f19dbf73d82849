"""Settings of the assessment (MNR self-assessment)."""

import os

from .base import VAR_DIR
from .env import env_int

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
