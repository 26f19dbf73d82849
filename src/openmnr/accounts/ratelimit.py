"""Fixed-window counters in the database, shared by every web and worker process."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import RateBucket


def hit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one event under `key`; True while the window's count stays within `limit`."""
    now = timezone.now()
    with transaction.atomic():
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
