"""Fixed-window counters in the database, shared by every web and worker process.

A counter's commit does not wait for the disk: losing the last few counts in a power cut is
harmless, while a durable commit per API call (each holding its key's row until the disk answers)
would cap one key at a few hundred calls a second.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import RateBucket


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one event under `key`; True while the window's count stays within `limit`."""
    now = timezone.now()
    with _without_waiting_for_disk(), transaction.atomic():
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"window_start": now}
        )
        if bucket.window_start <= now - timedelta(seconds=window_seconds):
            bucket.window_start, bucket.count = now, 1
            bucket.save(update_fields=["window_start", "count"])
            return 1 <= limit
        RateBucket.objects.filter(pk=bucket.pk).update(count=F("count") + 1)
        return bucket.count + 1 <= limit


def exceeded(key: str, limit: int, window_seconds: int) -> int:
    """Seconds until the window of `key` ends if it already holds `limit` events, else 0."""
    bucket = RateBucket.objects.filter(key=key).first()
    if bucket is None:
        return 0
    ends = bucket.window_start + timedelta(seconds=window_seconds)
    remaining = int((ends - timezone.now()).total_seconds())
    return remaining if bucket.count >= limit and remaining > 0 else 0


def clear(key: str) -> None:
    RateBucket.objects.filter(key=key).delete()


#: (relaxed, restored) session settings per database vendor. On SQLite in WAL mode, NORMAL writes
#: the commit without flushing it (the next FULL commit flushes it too); settings.py sets FULL.
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
