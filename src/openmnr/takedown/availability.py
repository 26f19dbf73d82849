"""Is the reported content still online? One availability check of a case's URL.

The answer is one of the core's check outcomes (openmnr.core.takedown.schedule.Check):

- DNS failure: the configured resolver says the name no longer exists (NXDOMAIN). The check asks
  that resolver first, so a name that is gone is told apart from a lookup that merely failed;
- gone: the URL answers 404 or 410;
- no match: the URL answers 2xx but the reported media are no longer there. A picture or video URL
  must still serve the same bytes (a digest of the bytes, such as SHA-256 or MD5, is equal) or, for
  a picture, one whose perceptual hash (PDQ) is within the banks' match threshold (a re-encoded
  copy is still the content). With ``OPENMNR_MATCH_FEATURES`` on, a picture no hash finds is still
  the content when the banks' local-feature check (``banks.services.match`` as triage matches,
  ``hotline.services.matched_entries``) finds a bank entry the reported item matched: a copy the
  site cropped since. A video is compared by its bytes only: hashing every frame at each
  check would cost minutes. A page must still show at least one of the case's media URLs, and that
  URL must still serve the media;
- online: the media are still there, or the case has no media (a page judged as a whole) and the
  URL answers 2xx;
- inconclusive: anything else (timeouts, refused connections, 5xx, 403, 451, a failed lookup, a
  page whose media URL could not be fetched).

Everything goes through the safe fetcher, which refuses private and reserved addresses.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from openmnr.banks import services as banks
from openmnr.core import fetch, media, signals
from openmnr.core.extract import extract_media_urls
from openmnr.core.hosting import HostingError
from openmnr.core.hosting.dns import NameNotFound, resolve
from openmnr.core.signals import ContentType
from openmnr.core.takedown.schedule import Check, outcome_of
from openmnr.hotline import services as hotline

# A page may show many pictures; a check fetches at most this many of the case's own.
MAX_MEDIA_FETCHES = 5
MEDIA_PAGE_LIMIT = 500


@dataclass(frozen=True)
class CheckResult:
    outcome: Check
    http_status: int | None = None
    detail: str = ""


def check_case(case, resolver) -> CheckResult:
    """Check the hotline case `case` (its URL and media items) through `resolver` and the fetcher."""
    host = urlsplit(case.url).hostname or ""
    try:
        resolve(host, resolver)
    except NameNotFound:
        return CheckResult(Check.DNS_FAILURE, detail=f"{host} no longer exists in DNS")
    except HostingError as exc:
        return CheckResult(Check.INCONCLUSIVE, detail=f"DNS: {exc}")
    try:
        page = _fetch(case.url)
    except fetch.FetchError as exc:
        return CheckResult(Check.INCONCLUSIVE, detail=str(exc))
    if not 200 <= page.status < 300:
        outcome = outcome_of(http_status=page.status)
        return CheckResult(outcome, page.status, f"HTTP {page.status}")
    items = [item for item in case.items.all() if item.sha256]
    if not items:
        return CheckResult(Check.ONLINE, page.status, "the page answers; it has no media to compare")
    still_there = _media_still_there(page, items)
    if still_there is None:
        return CheckResult(Check.INCONCLUSIVE, page.status, "a media URL of the page could not be fetched")
    outcome = outcome_of(http_status=page.status, media_matches=still_there)
    detail = "the reported media are still there" if still_there else "the reported media are gone"
    return CheckResult(outcome, page.status, detail)


def _fetch(url: str) -> fetch.FetchResult:
    return fetch.fetch(url, max_bytes=media.MAX_BYTES, allow_private=settings.FETCH_ALLOW_PRIVATE)


def _media_still_there(page: fetch.FetchResult, items) -> bool | None:
    """Whether the page (or media URL) still serves one of `items`; None when it cannot be told."""
    if (page.sniffed_type or "").startswith(("image/", "video/")):
        return _same_media(page.body, items)
    if page.sniffed_type != "text/html" and page.declared_type != "text/html":
        return False
    shown = set(extract_media_urls(page.body, page.url, limit=MEDIA_PAGE_LIMIT))
    candidates = [item for item in items if item.url in shown][:MAX_MEDIA_FETCHES]
    for item in candidates:
        try:
            response = _fetch(item.url)
        except fetch.FetchError:
            return None
        if 200 <= response.status < 300 and _same_media(response.body, [item]):
            return True
    return False


def _same_media(data: bytes, items) -> bool:
    """Whether ``data`` is one of ``items``: a digest of its bytes first (no decoding), then, for a
    picture, the signals that decode it (PDQ), in a child process with limits."""
    digests = [cls.name for cls in signals.SIGNAL_TYPES.values() if not cls.decodes]
    try:
        exact = signals.hash_content(data, only=digests)
    except media.MediaError:  # neither a picture nor a video
        return False
    if _close(exact, items):
        return True
    if exact.content_type is not ContentType.PHOTO:
        return False
    decoded = [cls.name for cls in signals.for_content(ContentType.PHOTO) if cls.decodes]
    wanted = [name for name in decoded if any(getattr(item, name, "") for item in items)]
    if not wanted:
        return False
    hashes = signals.hash_content(data, limits=banks.match_limits(isolate=True), only=wanted)
    return _close(hashes, items) or _found_by_features(hashes, items)


def _close(hashes: signals.Hashes, items) -> bool:
    """Whether a signal of ``hashes`` matches the same signal of an item, within the banks' threshold.

    A picture is hashed with the banks' query probes (``banks.match_limits``), so a copy the site
    turned, mirrored or framed since it was reported still counts as the same media."""
    thresholds = banks.thresholds()
    for name, hashed in hashes.items():
        signal = signals.get(name)
        for item in items:
            stored = getattr(item, name, "")
            if stored and signal.compare_query(hashed, stored, thresholds.get(name)).match:
                return True
    return False


def _found_by_features(hashes: signals.Hashes, items) -> bool:
    """Whether the banks' local-feature check (``OPENMNR_MATCH_FEATURES``) finds, for a picture no
    hash matched, a bank entry one of ``items`` matched when it was triaged: a cropped copy of a
    known picture is still the reported content. The picture's keypoints come with its hashes
    (``banks.match_limits``), and it is matched as triage matches it
    (``hotline.services.matched_entries``), so the check finds what triage would; an item that
    matched no bank entry has no keypoints to compare with, and is compared by its hashes only."""
    pdq = hashes.get("pdq")
    if not settings.MATCH_FEATURES or pdq is None or not pdq.keypoints:
        return False
    known = {m["entry"] for item in items for m in (item.match_detail or ()) if m.get("entry")}
    return bool(known) and bool(hotline.matched_entries({"pdq": pdq}) & known)
