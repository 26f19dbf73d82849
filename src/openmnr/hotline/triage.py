"""Triage: fetch a reported URL, find its media, hash each item and match it against the banks.

Runs in a task worker (tasks.triage_case), never in a web request; this module only does the work
and never enqueues: a fetch that may succeed later raises `TryAgain`, and tasks.py decides when
the task runs again (and resumes stalled cases). A case whose every media item
matches confirmed material is assessed automatically with the matched classification and never
reaches a person; anything else waits in the analyst queue.

Retry-safe by construction, so a worker killed at any point loses nothing and a second run (or two
runs at once) adds nothing twice:

- each media item is committed on its own as soon as it is hashed, and a (case, item URL) unique
  constraint makes a second copy impossible; a re-run skips the items already there;
- the case leaves `received` in one locked transaction at the end, so only one run finishes it;
- `triage_touched_at` is refreshed after every item, and `tasks.resume_stalled` re-enqueues cases
  whose triage stopped showing signs of life (`stalled`: the worker was killed, and django-tasks-db
  does not retry).

Only an evidence file can be left behind by a run killed between writing it and committing its item:
encrypted, unreferenced and harmless.
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from openmnr.core import fetch, media, signals
from openmnr.core.extract import extract_media_urls
from openmnr.core.signals import ContentType

from . import cases, evidence, holds, matching
from .classification import Classification, outcome_of
from .imaging import blurred_thumbnail
from .models import Case, MediaItem
from .states import State

# Refusals that another attempt cannot change: the address itself is the problem.
NOT_FETCHABLE = (fetch.BadURL, fetch.BlockedAddress, fetch.TooManyRedirects, fetch.TooLarge)
# Media from anywhere is decoded in a child process with memory and time limits; videos are hashed
# at every frame, fast mode, as bank entries are, so both sides of a comparison have the same frames.
# Pictures also get the query probes the settings ask for (``matching.hash_limits``).
HASH_LIMITS = signals.Limits(isolate=True)


def run(case_id: int) -> str:
    """Triage one case; returns what happened, in words, for the task's result. Raises `TryAgain`
    when the address may answer later."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.state != State.RECEIVED:
        return "nothing to do"
    _touch(case_id, attempt=True)
    try:
        page = _fetch(case.url)
    except fetch.FetchError as exc:
        return _not_fetched(case_id, exc)
    Case.objects.filter(pk=case_id).update(fetch_log=_log(page.log))
    if page.status >= 500:
        failure = fetch.TransportError(f"the server answered HTTP {page.status}")
        failure.log = page.log
        return _not_fetched(case_id, failure)
    if page.status >= 400:
        return _set_aside(case_id, f"the address answered HTTP {page.status}", page.log)
    for position, (url, response) in enumerate(_media_of(page)):
        _triage_item(case_id, position, url, response)
        _touch(case_id)
    return finish(case_id)


class TryAgain(Exception):
    """The reported address could not be fetched this time (a network error or a 5xx answer) and
    attempts remain: run the case's triage again after `delay`."""

    def __init__(self, delay: timedelta, reason: str):
        super().__init__(reason)
        self.delay = delay


def stalled(older_than: timedelta | None = None) -> list[int]:
    """Cases still `received` with no sign of life for `older_than` (default
    HOTLINE_STALLED_MINUTES); each is touched, so the next sweep waits a full period before it
    names the case again."""
    cutoff = timezone.now() - (older_than if older_than is not None else _stalled_after())
    found = Case.objects.filter(state=State.RECEIVED).filter(
        Q(triage_touched_at__lte=cutoff) | Q(triage_touched_at__isnull=True, opened_at__lte=cutoff)
    )
    case_ids = list(found.values_list("pk", flat=True))
    for case_id in case_ids:
        _touch(case_id)
    return case_ids


def _stalled_after() -> timedelta:
    return timedelta(minutes=settings.HOTLINE_STALLED_MINUTES)


def _touch(case_id: int, *, attempt: bool = False) -> None:
    changes = {"triage_touched_at": timezone.now()}
    if attempt:
        changes["triage_attempts"] = F("triage_attempts") + 1
    Case.objects.filter(pk=case_id).update(**changes)


def _fetch(url: str) -> fetch.FetchResult:
    return fetch.fetch(url, max_bytes=media.MAX_BYTES, allow_private=settings.FETCH_ALLOW_PRIVATE)


def _log(steps) -> list[dict]:
    return [
        {"url": s.url, "ip": s.ip, "status": s.status, "redirect_to": s.redirect_to, "error": s.error}
        for s in steps
    ]


def _media_type(response: fetch.FetchResult) -> str | None:
    sniffed = response.sniffed_type or ""
    return sniffed if sniffed.startswith(("image/", "video/")) else None


def _media_of(page: fetch.FetchResult) -> list[tuple[str, fetch.FetchResult | None]]:
    """The media to triage: the URL itself when it is a picture or video, else what its HTML shows."""
    if _media_type(page):
        return [(page.url, page)]
    if page.sniffed_type == "text/html" or page.declared_type == "text/html":
        urls = extract_media_urls(page.body, page.url, limit=settings.HOTLINE_MAX_MEDIA_PER_URL)
        return [(url, None) for url in urls]
    return []


def _not_fetched(case_id: int, exc: fetch.FetchError) -> str:
    """Set the case aside when the address cannot work or attempts are spent; else `TryAgain`."""
    case = Case.objects.get(pk=case_id)
    if isinstance(exc, NOT_FETCHABLE):
        return _set_aside(case_id, f"not fetchable: {exc}", exc.log)
    if case.triage_attempts >= settings.HOTLINE_FETCH_ATTEMPTS:
        return _set_aside(case_id, f"unreachable after {case.triage_attempts} attempts: {exc}", exc.log)
    Case.objects.filter(pk=case_id).update(fetch_log=_log(exc.log), fetch_error=str(exc))
    raise TryAgain(timedelta(minutes=2**case.triage_attempts), str(exc))


def _set_aside(case_id: int, reason: str, steps) -> str:
    with transaction.atomic():
        case = cases.locked(case_id)
        if case.state != State.RECEIVED:
            return "finished by another run"
        cases.move(case, State.NOT_ACTIONABLE, reason=reason[:500], fetch_error=reason, fetch_log=_log(steps))
    return reason


def _triage_item(case_id: int, position: int, url: str, response: fetch.FetchResult | None) -> None:
    item = _new_item(case_id, position, url)
    if MediaItem.objects.filter(case_id=case_id, url_sha256=item.url_sha256).exists():
        return  # done by an earlier run
    try:
        response = response or _fetch(url)
    except fetch.FetchError as exc:
        item.fetch_log, item.error = _log(exc.log), str(exc)
        _save(item)
        return
    media_type = _media_type(response)
    if response.status < 400 and media_type is not None:
        add_media(case_id, position, url, response.body, media_type, fetch_log=_log(response.log))
        return
    item.fetch_log = _log(response.log)
    item.error = (
        f"the address answered HTTP {response.status}" if response.status >= 400 else "not a picture or video"
    )
    _save(item)


def add_media(case_id: int, position: int, url: str, data: bytes, media_type: str, *, fetch_log=()) -> None:
    """Hash one picture or video found at a case's URL, match it against the banks, keep its bytes
    encrypted when the operator keeps evidence, and store it; once per (case, media URL)."""
    item = _new_item(case_id, position, url)
    if MediaItem.objects.filter(case_id=case_id, url_sha256=item.url_sha256).exists():
        return
    item.fetch_log = list(fetch_log)
    _describe(item, data, media_type)
    _save(item)


def _new_item(case_id: int, position: int, url: str) -> MediaItem:
    return MediaItem(
        case_id=case_id, position=position, url=url, url_sha256=hashlib.sha256(url.encode()).hexdigest()
    )


def _save(item: MediaItem) -> None:
    try:
        with transaction.atomic():
            item.save(force_insert=True)
    except IntegrityError:
        _forget_evidence(item)  # another run stored this item first; keep only its copy


def _describe(item: MediaItem, data: bytes, media_type: str) -> None:
    """Fill in the item's signals, its match and (when evidence is kept) its encrypted copies.

    Every signal that applies to the content is computed and matched (``signals.hash_content``
    sniffs it once); the item keeps those it has a field for, and a quality where it has one. A
    picture or video that cannot be decoded keeps its digests, which are matched, and the reason."""
    item.media_type, item.size = media_type, len(data)
    try:
        hashes = signals.hash_content(data, limits=matching.hash_limits(HASH_LIMITS))
    except media.MediaError as exc:
        item.error = f"the media cannot be hashed: {exc}"
        hashes = None
    else:
        _keep_signals(item, hashes)
    item.matched, item.match_detail = matching.match_signals(dict(hashes) if hashes else {})
    store = evidence.writer()
    if store is not None:
        item.evidence_id, _digest = store.put(data)
        decoded = hashes is not None and hashes.content_type is ContentType.PHOTO and hashes.error is None
        thumbnail = _thumbnail(data) if decoded else None
        if thumbnail is not None:
            item.thumbnail_id, item.thumbnail_sha256 = store.put(thumbnail)


def _keep_signals(item: MediaItem, hashes: signals.Hashes) -> None:
    fields = {field.name for field in MediaItem._meta.get_fields()}
    for name, hashed in hashes.items():
        if name in fields:
            setattr(item, name, hashed.value)
        if hashed.quality is not None and f"{name}_quality" in fields:
            setattr(item, f"{name}_quality", hashed.quality)
    if hashes.error is not None:
        kind = "picture" if hashes.content_type is ContentType.PHOTO else "video"
        item.error = f"the {kind} cannot be decoded: {hashes.error}"


def _thumbnail(data: bytes) -> bytes | None:
    """The protective thumbnail, made in a child process with limits like the hashes (None if
    that fails)."""
    try:
        return media.run_isolated(blurred_thumbnail, data)
    except media.MediaError:
        return None


def _forget_evidence(item: MediaItem) -> None:
    store = evidence.reader()
    for evidence_id in (item.evidence_id, item.thumbnail_id):
        if store is not None and evidence_id:
            store.delete(evidence_id)


def finish(case_id: int) -> str:
    """End triage: known material everywhere -> assessed automatically; otherwise the queue."""
    with transaction.atomic():
        case = cases.locked(case_id)
        if case.state != State.RECEIVED:
            return "finished by another run"
        items = list(case.items.all())
        known = [item for item in items if item.matched]
        _classify_known(known)
        if items and all(item.auto_assessed for item in items):
            outcome = outcome_of([Classification(i.assessment, i.category, i.age_group) for i in items])
            cases.move(
                case, State.TRIAGED, reason=f"{len(items)} media items, all known", has_known_match=True
            )
            cases.move(
                case,
                State.ASSESSED,
                reason="known material: every item matched confirmed material",
                assessment=outcome.assessment,
                category=outcome.category,
                age_group=outcome.age_group,
                auto_assessed=True,
                assessed_at=timezone.now(),
            )
            holds.apply_rule(case)
            return "assessed automatically: every item is known material"
        cases.move(
            case,
            State.TRIAGED,
            reason=f"{len(items)} media items, {len(known)} known",
            has_known_match=bool(known),
            fetch_error="",
        )
    return f"queued: {len(items)} media items, {len(known)} known"


def _classify_known(items: list[MediaItem]) -> None:
    """Known material takes the classification of the bank entry it matched, so nobody has to
    look at it again, whether or not the rest of the page is known. An entry that records no age
    group leaves the item unclassified and marked for review (matching.classification_of)."""
    now = timezone.now()
    for item in items:
        found = matching.classification_of(item)
        if found is None:
            item.needs_review = True
            item.save(update_fields=["needs_review"])
            continue
        item.assessment, item.category, item.age_group = found.assessment, found.category, found.age_group
        item.gender, item.flags = found.gender, list(found.flags) if found.flags is not None else None
        item.content_type = "video" if item.is_video else "image"
        item.auto_assessed, item.assessed_at, item.needs_review = True, now, False
        item.save(
            update_fields=[
                *("assessment", "category", "age_group", "gender", "flags", "content_type"),
                *("auto_assessed", "assessed_at", "needs_review"),
            ]
        )
