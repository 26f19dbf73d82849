"""Settings of the survivors (the Take it down page: hashes only, from the person's own device)."""

import os

from .env import env_int

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
