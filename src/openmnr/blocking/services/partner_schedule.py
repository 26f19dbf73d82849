"""Fetching partners' signed exports on a schedule: the worker's clock, and "fetch now" on the page.

    clock_job(now=None)                   the clock, every minute: fetch every partner list due
    queue_fetch(partner, by=, request=)   a person's "fetch now": checked, audited, queued for the
                                          worker (tasks.fetch_partner_list), answered at once
    fetch_now(partner, by=, request=)     a person's fetch, under the same rules (the queued task)
    fetch_and_record(partner, now=, ...)  one fetch, its outcome written on the partner's row

Three times decide when a partner is asked again, all on its row:

- ``next_fetch_at``: the schedule, ``OPENMNR_BLOCKING_PARTNER_FETCH_SECONDS`` after the last try
  (success or failure), or sooner for nothing;
- ``not_before``: what the partner allows, the later of its minimum wait (``min_wait_seconds``, from
  its terms) after our last try and the Retry-After of its last 429. Neither the clock nor a person
  asks before it: a partner that paces its export would otherwise see us as a misbehaving client,
  and hammering it after a 429 only lengthens the wait;
- ``fetching_until``: a lease, so two workers' clocks (or a clock and a person) never fetch one list
  at once. It is taken with a conditional UPDATE and outlives the fetch's timeout, so a worker
  killed mid-fetch only delays the next try.

"Fetch now" never runs in the web request: a fetch may take ``FETCH_TIMEOUT_SECONDS`` (30 s) and
an import of a large list longer, which would hold a web worker and the person's browser. The
page's button queues the fetch (``queue_fetch``: the same permission and ``not_before`` checks as
``fetch_now``, refusals audited as ``blocking.partner_fetch``, the queueing audited too) and marks
the row (``fetch_queued_at``, so a second press queues nothing); the worker runs ``fetch_now`` as
that person (the permission is checked again then, and the import is audited under their name),
and the row shows the outcome.

A failure (network, HTTP status, 429, bad signature, replay) leaves the entries as they were (the
import is one transaction and is refused whole), and is written on the row (``last_error``,
``failures_in_a_row``) for the page, besides the audit event the import service writes. A failing
partner is tried again at the next interval, not sooner: its entries are still the last good ones.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit

from ..errors import BlockingError, FetchUnderWay, NotAllowed, PartnerBusy, audited_refusal
from ..models import PartnerList
from . import partners

#: How long a fetch holds its lease: past the HTTP timeout and an import of the largest list.
LEASE = timedelta(seconds=partners.FETCH_TIMEOUT_SECONDS + 270)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    counts: dict | None = None


def interval() -> timedelta:
    return timedelta(seconds=settings.BLOCKING_PARTNER_FETCH_SECONDS)


def due(now: datetime):
    """The active partner exports the clock should fetch now."""
    return (
        PartnerList.objects.filter(active=True, kind=PartnerList.Kind.OPENMNR)
        .filter(Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=now))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(fetching_until__isnull=True) | Q(fetching_until__lt=now))
        .order_by("next_fetch_at", "pk")
    )


def _take(partner: PartnerList, now: datetime) -> bool:
    free = Q(fetching_until__isnull=True) | Q(fetching_until__lt=now)
    return bool(
        PartnerList.objects.filter(free, pk=partner.pk, active=True).update(fetching_until=now + LEASE)
    )


def fetch_and_record(partner: PartnerList, *, now: datetime | None = None, by=None, request=None) -> Outcome:
    """One fetch under the lease, its outcome on the row. Raises FetchUnderWay if another runs."""
    now = now or timezone.now()
    if not _take(partner, now):
        raise FetchUnderWay("a fetch of this partner's list is under way; look again in a minute")
    counts, error, wait = None, "", 0
    try:
        counts = partners.fetch(partner, by=by, request=request)
    except PartnerBusy as busy:
        error, wait = str(busy), busy.retry_after or 0
    except NotAllowed:
        PartnerList.objects.filter(pk=partner.pk).update(fetching_until=None)
        raise
    except BlockingError as refused:
        error = str(refused)
    wait = max(wait, partner.min_wait_seconds)
    fields = {
        "fetching_until": None,
        "fetch_queued_at": None,
        "last_attempt_at": now,
        "next_fetch_at": now + interval(),
        "not_before": now + timedelta(seconds=wait) if wait else None,
        "last_error": error,
        "failures_in_a_row": 0 if counts is not None else partner.failures_in_a_row + 1,
    }
    if fields["not_before"] and fields["not_before"] > fields["next_fetch_at"]:
        fields["next_fetch_at"] = fields["not_before"]
    PartnerList.objects.filter(pk=partner.pk).update(**fields)
    for name, value in fields.items():
        setattr(partner, name, value)
    if counts is None:
        return Outcome(False, error)
    return Outcome(
        True, f"{counts['count']} entries, {counts['added']} added, {counts['removed']} removed", counts
    )


def _may_fetch(partner: PartnerList, by, now: datetime) -> None:
    if by is None or not by.has_perm(partners.FETCH):
        raise NotAllowed("you may not fetch partners' URL lists")
    if not partner.active or partner.kind != PartnerList.Kind.OPENMNR:
        raise partners.InvalidInput("only an active partner OpenMNR's export is fetched")
    if partner.not_before and partner.not_before > now:
        seconds = int((partner.not_before - now).total_seconds()) + 1
        raise PartnerBusy(f"the partner asks us to wait: try again in {seconds} seconds", seconds)


def fetch_now(partner: PartnerList, *, by, request=None, now: datetime | None = None) -> Outcome:
    """A person's fetch: allowed to those who may see partners' lists, never before the partner's
    ``not_before`` (its minimum wait, its last Retry-After). Runs the fetch: the worker's task."""
    now = now or timezone.now()
    with audited_refusal("blocking.partner_fetch", by=by, obj=partner, request=request):
        _may_fetch(partner, by, now)
    return fetch_and_record(partner, now=now, by=by, request=request)


@transaction.atomic
def queue_fetch(partner: PartnerList, *, by, request=None, now: datetime | None = None) -> bool:
    """A person's "fetch now" from the page: the checks of ``fetch_now`` (refusals audited), then
    the fetch queued for the worker in this transaction and audited. False when one is already
    queued (nothing more is queued)."""
    from .. import tasks

    now = now or timezone.now()
    with audited_refusal("blocking.partner_fetch", by=by, obj=partner, request=request):
        _may_fetch(partner, by, now)
    marked = PartnerList.objects.filter(pk=partner.pk, active=True, fetch_queued_at__isnull=True).update(
        fetch_queued_at=now
    )
    if not marked:
        return False
    partner.fetch_queued_at = now
    tasks.fetch_partner_list.enqueue(partner.pk, by.pk)
    audit.record("blocking.partner_fetch", request=request, actor=by, obj=partner, detail={"queued": True})
    return True


def clock_job(now: datetime | None = None) -> dict[str, int]:
    """The worker's clock: fetch each partner export that is due (none when the interval is 0).
    Returns how many were fetched and how many failed."""
    result = {"fetched": 0, "failed": 0}
    if settings.BLOCKING_PARTNER_FETCH_SECONDS <= 0:
        return result
    now = now or timezone.now()
    for partner in due(now):
        try:
            outcome = fetch_and_record(partner, now=now)
        except FetchUnderWay:
            continue  # another worker took it between the query and the lease
        result["fetched" if outcome.ok else "failed"] += 1
    return result
