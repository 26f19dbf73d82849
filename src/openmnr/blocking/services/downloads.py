"""Serving the list to licensees: signed snapshots and diffs, each download audited.

A document is built once per version (or pair of versions) and kept in memory: a version never
changes once published, so a cached document is never stale, and a thousand resolvers asking for
the same diff cost one build. The cache key holds the version's checksum and the signing key's id,
so a restored database or a new key never meets an old document. The audit record names the key and the versions, never an entry.

The minimum wait is enforced here, not only written into the documents: a key that asks again
before ``BLOCKING_MIN_WAIT_SECONDS`` have passed since its last download gets ``TooSoon`` (429 with
Retry-After) and nothing else, so a misbehaving resolver cannot turn the list into a lookup of
what changed minute by minute, nor load the server. One exception keeps an honest client whole: a
snapshot right after a diff (the client's recovery when a diff does not apply). That allows at most
two documents per wait. Our export for partner hotlines (``export``) is paced the same way on a
clock of its own (``LicenseeDownload.last_export_at``). Staff sessions (people looking, not
machines) are not paced.
"""

import math
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.urllist import listformat

from .. import keys
from ..errors import NotPublished, TooSoon
from ..models import LicenseeDownload, ListEntry, ListVersion, Source
from .publishing import latest, prefix_bytes, state_at


def _generated_at(version: ListVersion) -> str:
    return version.published_at.isoformat()


@lru_cache(maxsize=8)
def _snapshot(version_number: int, checksum: str, key_id: str) -> dict:
    version = ListVersion.objects.get(version=version_number)
    payload = listformat.snapshot_payload(
        settings.BLOCKING_LIST_NAME,
        version.version,
        state_at(version.version),
        prefix_bytes=prefix_bytes(),
        min_wait=settings.BLOCKING_MIN_WAIT_SECONDS,
        generated_at=_generated_at(version),
        oprf_public_key=keys.oprf_public_key(),
    )
    return listformat.sign(payload, keys.signing_key())


@lru_cache(maxsize=64)
def _diff(from_version: int, to_version: int, checksum: str, key_id: str) -> dict:
    version = ListVersion.objects.get(version=to_version)
    payload = listformat.diff_payload(
        settings.BLOCKING_LIST_NAME,
        from_version,
        state_at(from_version),
        to_version,
        state_at(to_version),
        prefix_bytes=prefix_bytes(),
        min_wait=settings.BLOCKING_MIN_WAIT_SECONDS,
        generated_at=_generated_at(version),
        oprf_public_key=keys.oprf_public_key(),
    )
    return listformat.sign(payload, keys.signing_key())


def _current() -> ListVersion:
    version = latest()
    if version is None:
        raise NotPublished("the list has not been published yet")
    return version


def _key_id() -> str:
    return listformat.key_id(keys.signing_key().public_key())


def _pace(request, kind: str, now) -> None:
    """Count this download against the key's minimum wait, or raise TooSoon (inside the caller's
    transaction, so a refused or failed download leaves the last time as it was)."""
    key = getattr(request, "api_key", None)
    if key is None:
        return
    row, _ = LicenseeDownload.objects.select_for_update().get_or_create(api_key=key)
    if kind == "export":  # partner hotlines: a clock of its own, no recovery exception
        _wait(row.last_export_at, now, recovering=False)
        row.last_export_at = now
        row.save(update_fields=["last_export_at"])
        return
    _wait(row.last_at, now, recovering=kind == "snapshot" and row.last_kind == "diff")
    row.last_at, row.last_kind = now, kind
    row.save(update_fields=["last_at", "last_kind"])


def _wait(last, now, *, recovering: bool) -> None:
    """TooSoon when ``BLOCKING_MIN_WAIT_SECONDS`` have not passed since ``last`` (None: never)."""
    if last is None or recovering:
        return
    wait = settings.BLOCKING_MIN_WAIT_SECONDS - (now - last).total_seconds()
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise TooSoon(f"the list's minimum wait has not passed: ask again in {seconds} seconds", seconds)


@transaction.atomic
def snapshot(*, request=None, now=None) -> dict:
    """The signed snapshot of the latest version."""
    version = _current()
    _pace(request, "snapshot", now or timezone.now())
    document = _snapshot(version.version, version.checksum, _key_id())
    audit.record(
        "blocking.list_download",
        request=request,
        obj=version,
        detail={"kind": "snapshot", "version": version.version},
    )
    return document


@transaction.atomic
def diff(from_version: int, *, request=None, now=None) -> dict:
    """The signed diff from ``from_version`` to the latest version."""
    version = _current()
    if not 1 <= from_version <= version.version:
        raise NotPublished(f"there is no version {from_version} to start a diff from")
    _pace(request, "diff", now or timezone.now())
    document = _diff(from_version, version.version, version.checksum, _key_id())
    audit.record(
        "blocking.list_download",
        request=request,
        obj=version,
        detail={"kind": "diff", "from_version": from_version, "version": version.version},
    )
    return document


@transaction.atomic
def export(*, request=None, now=None) -> dict:
    """Our own entries (from hotline cases, never a partner's) at the latest version, as a signed
    export a partner OpenMNR imports (``partners.import_document``). Expressions in the clear: for
    partner hotlines under agreement (permission ``download_partner_export``), never licensees.
    Paced per key as snapshots are (``BLOCKING_MIN_WAIT_SECONDS``, its own clock): a partner that
    asks sooner gets TooSoon (429 with Retry-After), which a partner OpenMNR honours."""
    version = _current()
    _pace(request, "export", now or timezone.now())
    expressions = ListEntry.objects.filter(
        added_version__lte=version.version, removed_version__isnull=True, source=Source.CASE
    ).values_list("expression", flat=True)
    payload = listformat.export_payload(
        settings.BLOCKING_LIST_NAME, version.version, list(expressions), generated_at=_generated_at(version)
    )
    audit.record(
        "blocking.list_download",
        request=request,
        obj=version,
        detail={"kind": "export", "version": version.version, "count": payload["count"]},
    )
    return listformat.sign(payload, keys.signing_key())
