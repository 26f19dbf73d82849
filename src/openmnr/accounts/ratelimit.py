"""Fixed-window counters in the database, shared by every web and worker process.

A counter's commit does not wait for the disk: losing the last few counts in a power cut is
harmless, while a durable commit per API call (each holding its key's row until the disk answers)
would cap one key at a few hundred calls a second.

Counters for the public (``hit_private``) must not become a record of who came. Their name is an
HMAC of the caller's address under a key made of SECRET_KEY and a random secret drawn for the
window (``WindowKey``); the window is aligned to the clock, so a row's ``window_start`` says only
which hour it counts, not when the first request came. When the window ends the secret and the
window's rows are deleted (by the first count of the next window, and by ``sweep`` on the worker's
clock), after which nobody, not even with SECRET_KEY and a copy of the database, can tell which
address a past counter belonged to. While the window lasts, whoever holds both SECRET_KEY and the
database could test guessed addresses against it; that is the price of counting at all across
processes, and it lasts an hour.
"""

import hashlib
import hmac
import secrets
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import RateBucket, WindowKey


def hit(key: str, limit: int, window_seconds: int, *, window_start: datetime | None = None) -> bool:
    """Count one event under `key`; True while the window's count stays within `limit`.

    The window starts at the first event (or at `window_start`, for windows aligned to the clock)
    and the count starts again once it has ended.
    """
    now = timezone.now()
    start = window_start or now
    window = timedelta(seconds=window_seconds)
    with _without_waiting_for_disk():
        counted = _count_in_open_window(key, now)
    if counted is not None:
        return counted <= limit
    with _without_waiting_for_disk(), transaction.atomic():
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"window_start": start, "expires_at": start + window}
        )
        if bucket.expires_at <= now:
            bucket.window_start, bucket.expires_at, bucket.count = start, start + window, 1
            bucket.save(update_fields=["window_start", "expires_at", "count"])
            return 1 <= limit
        RateBucket.objects.filter(pk=bucket.pk).update(count=F("count") + 1)
        return bucket.count + 1 <= limit


def _count_in_open_window(key: str, now: datetime) -> int | None:
    """Count one event in the open window of ``key`` and return the new count, or None when there
    is no open window (no row yet, or its window has ended: ``hit`` then starts one under a lock).

    The common case of every API call, in one statement: an UPDATE ... RETURNING is atomic on
    its own (the row's lock is held until it commits, on PostgreSQL as on SQLite), so concurrent
    calls each see their own count, exactly as the locked read-and-increment did, for one round
    trip and none of the ORM's query building."""
    table, quote = RateBucket._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {quote('count')} = {quote('count')} + 1 "
            f"WHERE {quote('key')} = %s AND {quote('expires_at')} > %s RETURNING {quote('count')}",
            [key, connection.ops.adapt_datetimefield_value(now)],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def exceeded(key: str, limit: int) -> int:
    """Seconds until the window of `key` ends if it already holds more than `limit` events, else 0."""
    bucket = RateBucket.objects.filter(key=key).first()
    if bucket is None:
        return 0
    remaining = int((bucket.expires_at - timezone.now()).total_seconds())
    return remaining if bucket.count > limit and remaining > 0 else 0


def clear(key: str) -> None:
    RateBucket.objects.filter(key=key).delete()


# --- counters for the public ---------------------------------------------------------------------


def hit_private(purpose: str, identity: str, limit: int, window_seconds: int) -> bool:
    """Count one event of an anonymous caller known by `identity` (its address) for `purpose`.

    Like ``hit``, but the counter's name cannot be tied to `identity` once the window is over (see
    the module's docstring), and its window is aligned to the clock.
    """
    start = _aligned(timezone.now(), window_seconds)
    key = _window_key(purpose, start, window_seconds)
    digest = hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()
    return hit(f"{purpose}:{digest[:40]}", limit, window_seconds, window_start=start)


def hit_distinct(purpose: str, scope: str, member: str, limit: int, window_seconds: int) -> bool:
    """Count `member` once per window under `scope`; True while `scope` has seen at most `limit`
    different members this window (a member seen before counts again only in a new window).

    Scope and member are kept only as keyed hashes under the window's key (as in ``hit_private``),
    so a member that is sensitive itself (a hash value a caller asked about) is never stored and
    cannot be recovered once the window has ended."""
    start = _aligned(timezone.now(), window_seconds)
    key = _window_key(purpose, start, window_seconds)
    scope_name = hmac.new(key, scope.encode(), hashlib.sha256).hexdigest()[:40]
    member_name = hmac.new(key, f"{scope}\0{member}".encode(), hashlib.sha256).hexdigest()[:40]
    counter = f"{purpose}:n:{scope_name}"
    end = start + timedelta(seconds=window_seconds)
    with _without_waiting_for_disk(), transaction.atomic():
        _, new = RateBucket.objects.get_or_create(
            key=f"{purpose}:m:{member_name}", defaults={"window_start": start, "expires_at": end, "count": 1}
        )
    if new:
        return hit(counter, limit, window_seconds, window_start=start)
    bucket = RateBucket.objects.filter(key=counter).first()
    return bucket is None or bucket.count <= limit


def _aligned(now: datetime, window_seconds: int) -> datetime:
    seconds = int(now.timestamp()) // window_seconds * window_seconds
    return datetime.fromtimestamp(seconds, UTC)


def _window_key(purpose: str, start: datetime, window_seconds: int) -> bytes:
    """The HMAC key of `purpose` for the window starting at `start`, shared by every process.

    Read from the database at every count (one indexed row), never kept in a process's memory, so
    that no copy outlives the row that ``sweep`` deletes."""
    row = WindowKey.objects.filter(purpose=purpose, window_start=start).first()
    if row is None:
        try:
            with transaction.atomic():
                row = WindowKey.objects.create(
                    purpose=purpose,
                    window_start=start,
                    expires_at=start + timedelta(seconds=window_seconds),
                    secret=secrets.token_bytes(32),
                )
        except IntegrityError:  # another process drew it first
            row = WindowKey.objects.get(purpose=purpose, window_start=start)
        _forget_ended_windows(purpose, start)
    return hmac.new(
        settings.SECRET_KEY.encode(), b"openmnr rate window\0" + bytes(row.secret), hashlib.sha256
    ).digest()


def _forget_ended_windows(purpose: str, current_start: datetime) -> None:
    WindowKey.objects.filter(purpose=purpose, window_start__lt=current_start).delete()
    RateBucket.objects.filter(key__startswith=f"{purpose}:", expires_at__lte=timezone.now()).delete()


def sweep() -> int:
    """Delete every counter whose window has ended and every window key of a past window; the
    worker's clock runs it every minute. Returns how many counters went."""
    now = timezone.now()
    removed, _ = RateBucket.objects.filter(expires_at__lte=now).delete()
    WindowKey.objects.filter(expires_at__lte=now).delete()
    return removed


#: (relaxed, restored) session settings per database vendor. On SQLite in WAL mode, NORMAL writes
#: the commit without flushing it (the next FULL commit flushes it too); openmnr.web.settings sets FULL.
_RELAXED_COMMIT = {
    "sqlite": ("PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"),
    "postgresql": ("SET synchronous_commit TO OFF", "RESET synchronous_commit"),
}


@contextmanager
def _without_waiting_for_disk():
    """Let the transaction inside commit without waiting for the disk, when it is the outermost
    one (an enclosing transaction keeps its own durability)."""
    statements = _RELAXED_COMMIT.get(connection.vendor)
    if statements is None or connection.in_atomic_block:
        yield
        return
    relax, restore = statements
    with connection.cursor() as cursor:
        cursor.execute(relax)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(restore)
