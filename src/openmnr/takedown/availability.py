"""Is the reported content still online? One availability check of a case's URL.

The answer is one of the core's check outcomes (openmnr.core.takedown.schedule.Check):

- DNS failure: the configured resolver says the name no longer exists (NXDOMAIN). The check asks
  that resolver first, so a name that is gone is told apart from a lookup that merely failed;
- gone: the URL answers 404 or 410;
- no match: the URL answers 2xx but the reported media are no longer there. A picture or video URL
  must still serve the same bytes (SHA-256 or MD5) or, for a picture, one within the PDQ match
  radius (a re-encoded copy is still the content). A page must still show at least one of the
  case's media URLs, and that URL must still serve the media;
- online: the media are still there, or the case has no media (a page judged as a whole) and the
  URL answers 2xx;
- inconclusive: anything else (timeouts, refused connections, 5xx, 403, 451, a failed lookup, a
  page whose media URL could not be fetched).

Everything goes through the safe fetcher, which refuses private and reserved addresses.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from openmnr.core import fetch, media
from openmnr.core.extract import extract_media_urls
from openmnr.core.hosting import HostingError
from openmnr.core.hosting.dns import NameNotFound, resolve
from openmnr.core.signals.md5 import Md5Signal
from openmnr.core.signals.pdq import PdqSignal, distance
from openmnr.core.signals.sha256 import Sha256Signal
from openmnr.core.takedown.schedule import Check, outcome_of

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
        return _same_media(page.body, page.sniffed_type, items)
    if page.sniffed_type != "text/html" and page.declared_type != "text/html":
        return False
    shown = set(extract_media_urls(page.body, page.url, limit=MEDIA_PAGE_LIMIT))
    candidates = [item for item in items if item.url in shown][:MAX_MEDIA_FETCHES]
    for item in candidates:
        try:
            response = _fetch(item.url)
        except fetch.FetchError:
            return None
        if 200 <= response.status < 300 and _same_media(response.body, response.sniffed_type, [item]):
            return True
    return False


def _same_media(data: bytes, media_type: str | None, items) -> bool:
    sha256 = Sha256Signal.hash_bytes(data).value
    md5 = Md5Signal.hash_bytes(data).value
    if any(item.sha256 == sha256 or (item.md5 and item.md5 == md5) for item in items):
        return True
    pdqs = [item.pdq for item in items if item.pdq]
    if not pdqs or not (media_type or "").startswith("image/"):
        return False
    try:
        found = PdqSignal.hash_bytes(data, isolate=True).value
    except media.MediaError:
        return False
    return any(distance(found, pdq) <= settings.BANKS_PDQ_RADIUS for pdq in pdqs)
