"""Settings of the banks (hash banks, four eyes, matching)."""

from django.core.exceptions import ImproperlyConfigured

from .base import VAR_DIR
from .env import env_bool, env_int

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
# Local features (ORB keypoints checked by a similarity transform; openmnr.core.robust.features):
# a picture proposed to a bank keeps its keypoints, and a picture matched anywhere (match API and
# page, hotline and industry triage, availability checks) that no hash matched is checked against
# them (crops, frames, small rotations; not in bulk scans). Off by
# default; for a hotline's own bank. The scan holds at most MATCH_FEATURES_MAX_ENTRIES entries
# (the newest): the scan measures candidate entries only, 46 ms per upload at 1,000 entries and
# 16-18 ms at 10,000 (docs/decisions/0034-feature-scan-index.md proposes 10,000).
MATCH_FEATURES = env_bool("OPENMNR_MATCH_FEATURES", False)
MATCH_FEATURES_MAX_ENTRIES = env_int("OPENMNR_MATCH_FEATURES_MAX_ENTRIES", 1000)
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
