"""Publishing the URL list: from the cases takedown still sees live to a new signed version.

``publish`` compares what the list should hold (one exact expression per live case URL, from
``takedown.services.live_confirmed_urls``, and partners' entries where the licence allows:
``partners.py``) with the entries live now, and if they differ records a
new version in one transaction: new entries carry it as ``added_version``, dropped ones as
``removed_version``, and ``ListVersion`` keeps the count and checksum. Nothing changes when nothing
changed, so a clock can call it every few minutes and licensees' diffs stay empty. Two publications
at once collide on the version's primary key; the loser raises ``Conflict`` and leaves no trace.

An entry is the *exact* expression of the case's URL (host and path, with its query), never the
host alone: the list blocks the material, not the site it was posted on (MNR criterion 16.3.d).
"""

import hashlib

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.urllist import listformat
from openmnr.core.urllist.expressions import InvalidURL, expressions
from openmnr.takedown import services as takedown

from ..errors import Conflict, InvalidInput, NotAllowed
from ..models import ListEntry, ListVersion, Source
from . import partners


def prefix_bytes() -> int:
    return settings.BLOCKING_PREFIX_BYTES


def latest() -> ListVersion | None:
    return ListVersion.objects.order_by("-version").first()


def wanted_entries() -> dict[str, tuple[int | None, int | None]]:
    """expression -> (hotline case id, partner list id): every live case URL (the oldest case wins
    a shared one), then the entries of partners whose licence lets us publish (a case wins over a
    partner for the same expression)."""
    wanted: dict[str, tuple[int | None, int | None]] = {}
    for live in takedown.live_confirmed_urls():
        try:
            expression = expressions(live.url)[0]
        except InvalidURL:
            continue  # a case URL is canonical already; one that is not cannot be blocked either
        wanted.setdefault(expression, (live.case_id, None))
    for expression, partner_id in partners.published_entries().items():
        wanted.setdefault(expression, (None, partner_id))
    return wanted


def publish(*, by=None, request=None, now=None) -> ListVersion | None:
    """A new version if the live cases changed since the last one, else None."""
    if by is not None and not by.has_perm("blocking.publish_list"):
        raise NotAllowed("you may not publish the URL list")
    now = now or timezone.now()
    wanted = wanted_entries()
    try:
        with transaction.atomic():
            last = ListVersion.objects.select_for_update().order_by("-version").first()
            live = {e.expression: e for e in ListEntry.objects.filter(removed_version__isnull=True)}
            added = [e for e in wanted if e not in live]
            dropped = [entry for expression, entry in live.items() if expression not in wanted]
            if last is not None and not added and not dropped:
                return None
            version = (last.version if last else 0) + 1
            ListEntry.objects.bulk_create(
                ListEntry(
                    expression=e,
                    full_hash=hashlib.sha256(e.encode("ascii")).hexdigest(),
                    source=Source.CASE if wanted[e][0] is not None else Source.PARTNER,
                    case_id=wanted[e][0],
                    partner_id=wanted[e][1],
                    added_version=version,
                )
                for e in added
            )
            ListEntry.objects.filter(pk__in=[e.pk for e in dropped]).update(removed_version=version)
            prefixes = state_at(version, check=False)
            published = ListVersion.objects.create(
                version=version,
                published_at=now,
                count=len(wanted),
                added=len(added),
                removed=len(dropped),
                checksum=listformat.checksum(list(prefixes)),
            )
            audit.record(
                "blocking.publish",
                request=request,
                actor=by,
                obj=published,
                detail={"count": len(wanted), "added": len(added), "removed": len(dropped)},
            )
            return published
    except IntegrityError:
        raise Conflict("the list was published by someone else at the same moment; try again") from None


def full_hashes_at(version: int) -> set[str]:
    """The full hashes (hex) listed in ``version``."""
    return set(
        ListEntry.objects.filter(added_version__lte=version)
        .exclude(removed_version__lte=version)
        .values_list("full_hash", flat=True)
    )


def state_at(version: int, *, check: bool = True) -> set[bytes]:
    """The prefixes a licensee holds at ``version``."""
    if check and not ListVersion.objects.filter(version=version).exists():
        raise InvalidInput(f"there is no version {version} of the list")
    width = prefix_bytes()
    return {bytes.fromhex(full)[:width] for full in full_hashes_at(version)}


#: The clock publishes at most this often, so a burst of assessments makes one version, not twenty.
CLOCK_SECONDS = 300


def clock_job(now=None) -> ListVersion | None:
    """The worker clock's job: publish when the cases changed and the last version is older than
    ``CLOCK_SECONDS``. Two workers at once: one publishes, the other's ``Conflict`` is ignored."""
    now = now or timezone.now()
    last = latest()
    if last is not None and (now - last.published_at).total_seconds() < CLOCK_SECONDS:
        return None
    try:
        return publish(now=now)
    except Conflict:
        return None
