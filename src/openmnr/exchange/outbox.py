"""The outbox: every message to a partner is a row first, sent later, with an exactly-once effect.

A row is created in the transaction that decides it (an assessment completed, a forward routed), so
a decision and its message commit together or not at all, and named by a dedupe key for its effect
(``iccam:action:411:removed``): asking again finds the row and adds nothing. A sender claims a row
with a lease (a conditional UPDATE, so of two senders exactly one wins, on SQLite and PostgreSQL
alike), sends it, and records the outcome. Each row is in one state::

    pending --> sent                 done (or found already done at the partner's: not sent twice)
       |   \\--> skipped              the partner's rules say it must not be sent (ICCAM's, say)
       |    \\-> failed               refused (HTTP 400...): the partner's field errors are kept and
       |     \\                       shown to administrators, who retry or dismiss it
       |      \\> uncertain           sent, and no answer came back, for a call that cannot be
       |                             repeated safely: an administrator checks and retries or dismisses
       +--- 5xx or network error: stays pending, tried again in the next cycle

Calls that can be checked first (an ICCAM action: is it already there?) or repeated harmlessly (PUT)
are retried after a lost answer; only a new ICCAM report, which nothing can look up, becomes
`uncertain`. That is the exactly-once effect: at least once by retry, at most once by dedupe key,
pre-check or an administrator's look.
"""

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit

from .models import OutboxRow, RowState

LEASE = timedelta(minutes=10)


class OutboxError(Exception):
    """An administrator's action on a row that its state does not allow."""


def enqueue(
    *,
    channel: str,
    kind: str,
    dedupe_key: str,
    payload: dict,
    case_id: int | None = None,
    partner=None,
    not_before: datetime | None = None,
) -> tuple[OutboxRow, bool]:
    """(the row for this effect, created now?). Call it inside the transaction that decided it."""
    existing = OutboxRow.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            row = OutboxRow.objects.create(
                channel=channel,
                kind=kind,
                dedupe_key=dedupe_key,
                payload=payload,
                case_id=case_id,
                partner=partner,
                not_before=not_before or timezone.now(),
            )
    except IntegrityError:
        return OutboxRow.objects.get(dedupe_key=dedupe_key), False
    return row, True


def due(channel: str, now: datetime | None = None, limit: int = 200) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboxRow.objects.filter(channel=channel, state=RowState.PENDING, not_before__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def claim(row_id: int) -> OutboxRow | None:
    """The row, leased to the caller; None when another sender holds it or it is done."""
    now = timezone.now()
    token = secrets.token_hex(8)
    won = (
        OutboxRow.objects.filter(pk=row_id, state=RowState.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, lease_token=token)
    )
    if not won:
        return None
    row = OutboxRow.objects.get(pk=row_id)
    return row if row.lease_token == token else None


def finish(
    row: OutboxRow, state: str, *, error: str = "", field_errors=None, result=None, request=None
) -> None:
    """Record what sending `row` came to, and audit a row that reached its partner."""
    now = timezone.now()
    with transaction.atomic():
        OutboxRow.objects.filter(pk=row.pk).update(
            state=state,
            attempts=row.attempts + 1,
            last_attempt_at=now,
            done_at=now if state != RowState.PENDING else None,
            error=error[:4000],
            field_errors=field_errors or {},
            result=result if result is not None else row.result,
            lease_until=None,
            lease_token="",
        )
        if state in (RowState.SENT, RowState.UNCERTAIN, RowState.FAILED):
            audit.record(
                f"exchange.{row.channel}.send",
                request=request,
                object_type="exchange.outboxrow",
                object_id=str(row.pk),
                outcome=audit.SUCCESS if state == RowState.SENT else audit.FAILURE,
                detail={"kind": row.kind, "case": row.case_id, "state": state},
            )


def retry_later(row: OutboxRow, error: str, *, delay: timedelta = timedelta(0)) -> None:
    """The partner could not be reached: the row stays pending for the next cycle."""
    now = timezone.now()
    OutboxRow.objects.filter(pk=row.pk).update(
        attempts=row.attempts + 1,
        last_attempt_at=now,
        not_before=now + delay,
        error=error[:4000],
        lease_until=None,
        lease_token="",
    )


def retry(row_id: int, user, *, request=None) -> OutboxRow:
    """An administrator sends a failed or uncertain row again."""
    return _decide(row_id, user, RowState.PENDING, (RowState.FAILED, RowState.UNCERTAIN), "retry", request)


def dismiss(row_id: int, user, *, request=None) -> OutboxRow:
    """An administrator gives up a row (fixed by hand at the partner's, or no longer wanted)."""
    allowed = (RowState.FAILED, RowState.UNCERTAIN, RowState.PENDING)
    return _decide(row_id, user, RowState.DISMISSED, allowed, "dismiss", request)


def _decide(row_id, user, to, allowed, verb, request) -> OutboxRow:
    with transaction.atomic():
        row = OutboxRow.objects.select_for_update().filter(pk=row_id).first()
        if row is None:
            raise OutboxError(f"there is no exchange message {row_id}")
        if row.state not in allowed:
            raise OutboxError(f"a message that is {row.get_state_display()} cannot be {verb}ed")
        before = row.state
        row.state = to
        row.not_before = timezone.now()
        row.lease_until = None
        if to == RowState.DISMISSED:
            row.done_at = timezone.now()
        row.save(update_fields=["state", "not_before", "lease_until", "done_at"])
        audit.record(
            f"exchange.outbox.{verb}",
            request=request,
            actor=user,
            obj=row,
            detail={"kind": row.kind, "from": before, "case": row.case_id},
        )
    return row
