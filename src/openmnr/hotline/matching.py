"""Matching triaged media against the banks, through banks.services.

Triage runs in a worker with nobody signed in, while `banks.services.match` answers for a user and
the banks that user's role may match. Triage therefore matches as a service account,
`openmnr-triage`: it holds the analyst role (so it sees exactly the banks analysts may match),
has no usable password and no second factor, and so can never sign in. Its name is what the audit
log shows for triage's matches.

An item is *known material* when it matches an active entry of a bank of confirmed CSAM; it then
takes that entry's classification (the most serious one, if it matches several), with the age
group, gender and flags the entry records. An entry that records no age group cannot make a
complete classification (illegal material needs one, and age statistics would silently drop the
item), so `classification_of` answers None and the item waits for an analyst, marked for review.
"""

from dataclasses import replace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from openmnr.banks import services as banks
from openmnr.core import signals

from .classification import ILLEGAL, Assessment, Classification, meets_baseline
from .models import MediaItem

TRIAGE_ACCOUNT = "openmnr-triage"
TRIAGE_ROLE = "analyst"
# The banks app's purpose value for banks of confirmed CSAM (banks.models.Purpose.CONFIRMED_CSAM).
CONFIRMED_CSAM = "confirmed_csam"


def triage_account():
    user, created = get_user_model().objects.get_or_create(username=TRIAGE_ACCOUNT)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=TRIAGE_ROLE))
    return user


def hash_limits(limits: signals.Limits) -> signals.Limits:
    """``limits`` with the query probes and local features the banks' settings ask for (turns and
    mirrors, a border trimmed, a picture's keypoints with ``OPENMNR_MATCH_FEATURES``:
    ``banks.services.match_limits``), so triage finds what the match API finds: a cropped copy of
    a bank picture too, by the same feature check, when the setting is on."""
    probing = banks.match_limits(isolate=limits.isolate)
    return replace(limits, dihedral=probing.dihedral, trim=probing.trim, keypoints=probing.keypoints)


def match_signals(values: dict[str, str | signals.HashValue]) -> tuple[bool, list[dict]]:
    """(known material?, what matched: bank, purpose, entry id, classification; never a hash) for
    the signals of one media item ({signal type: value or ``HashValue``, as ``signals.Hashes``
    holds them: a picture's probes are matched with it})."""
    if not values:
        return False, []
    (result,) = banks.match([values], user=triage_account())
    detail = [
        {
            "bank": m.bank,
            "purpose": m.purpose,
            "entry": m.entry_id,
            "signal_type": m.signal_type,
            "distance": m.distance,
            "classification": m.classification,
            "category": m.category,
            **_percentages(m),
            **_by_features(m),
        }
        for m in result.matches
    ]
    return any(_is_known(m) for m in detail), detail


def matched_entries(values: dict[str, str | signals.HashValue]) -> set[int]:
    """The ids of the bank entries ``values`` (one item's signals, as ``match_signals`` takes
    them) match, as triage matches: the same banks service, the same account. The takedown
    availability check asks it whether a picture a site now serves is still the reported one."""
    if not values:
        return set()
    (result,) = banks.match([values], user=triage_account())
    return {m.entry_id for m in result.matches}


def _percentages(match) -> dict:
    """For a match on a value made of parts (a video's vPDQ), the two shares of matching frames, so
    an analyst sees how close."""
    if match.query_match_percent is None:
        return {}
    return {
        "query_match_percent": match.query_match_percent,
        "entry_match_percent": match.entry_match_percent,
    }


def _by_features(match) -> dict:
    """For a match found by local features (``OPENMNR_MATCH_FEATURES``, no hash matched), how: an
    analyst then knows the distance is beyond the hash's radius. Never the keypoints."""
    if match.method != "features":
        return {}
    return {"method": match.method, "inliers": match.inliers}


def _is_known(match: dict) -> bool:
    return match["purpose"] == CONFIRMED_CSAM and match["classification"] in ILLEGAL


def classification_of(item: MediaItem) -> Classification | None:
    """The classification known material takes from the bank entry it matched: the most serious,
    closest entry that records an age group; None when none of them does (needs review)."""
    known = [m for m in item.match_detail if _is_known(m)]
    known.sort(key=lambda m: (m["classification"] != Assessment.BASELINE, m["distance"]))
    details = banks.entry_assessments(m["entry"] for m in known)
    for match in known:
        entry = details.get(match["entry"], {})
        if not entry.get("age_group"):
            continue
        found = Classification(
            match["classification"],
            match["category"],
            entry["age_group"],
            gender=entry.get("gender") or "",
            flags=tuple(entry["flags"]) if entry.get("flags") is not None else None,
        )
        if not meets_baseline(found):
            continue  # baseline from an entry whose age group or flags say otherwise: an analyst decides
        return found.closed()
    return None
