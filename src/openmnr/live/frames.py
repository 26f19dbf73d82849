"""The reveal buffer in the platform: sealed frames kept with their alert, blurred by default,
revealed one alert at a time after step-up, deleted when they expire.

The invariant: a buffered frame is stored only as the monitor sealed it (AES-256-GCM, the key in
the environment, never in the database), and is decrypted only in memory, to answer one request:
blurred and grey to anyone who may see the alert (enough to tell a frame is there, not what it
shows), sharp only to the session that revealed that alert, after a fresh second factor (the view
is ``step_up_required``), with the permission, audited (``live.frames_revealed``), for
``HOTLINE_REVEAL_SECONDS`` at most, as the hotline's protective viewer does. Revealing another
alert ends the first. Frames expire ``LIVE_REVEAL_KEEP_SECONDS`` after they arrive: ``expire``
deletes them (``openmnr live serve`` calls it every minute and at each alert; the pages call it too,
so an expired frame is never shown even if nothing ran since).

With the buffer off (``LIVE_REVEAL_BUFFER_SECONDS`` = 0, the default), ``store`` keeps nothing
even if an event carries frames: the platform's setting, not the monitor's, decides.
"""

import io
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageFilter

from openmnr.audit import services as audit
from openmnr.core.live import reveal

from .models import LiveAlert, LiveAlertFrame

SESSION_KEY = "live_frames_revealed"
BLUR_RADIUS = 16


class RevealError(Exception):
    pass


def enabled() -> bool:
    return settings.LIVE_REVEAL_BUFFER_SECONDS > 0


def store(alert: LiveAlert, frames: list) -> int:
    """Keep the sealed frames an alert event carried (inside the event's transaction); returns
    how many. Malformed frames are skipped, not stored."""
    if not enabled() or not isinstance(frames, list):
        return 0
    expires = timezone.now() + timedelta(seconds=settings.LIVE_REVEAL_KEEP_SECONDS)
    rows = []
    for item in frames:
        try:
            frame = reveal.SealedFrame.from_dict(item)
        except reveal.BufferError:
            continue
        rows.append(
            LiveAlertFrame(
                alert=alert,
                stream_seconds=frame.seconds,
                sampled_at=datetime.fromtimestamp(frame.wall, tz=UTC),
                sealed=frame.sealed,
                expires_at=expires,
            )
        )
    LiveAlertFrame.objects.bulk_create(rows)
    return len(rows)


def expire() -> int:
    """Delete every frame past its expiry; returns how many."""
    deleted, _ = LiveAlertFrame.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def current(alert: LiveAlert) -> list[LiveAlertFrame]:
    expire()
    return list(alert.frames.all())


def reveal_alert(alert: LiveAlert, request) -> None:
    if not request.user.has_perm("live.reveal_live_frames"):
        raise RevealError("your role may not reveal frames")
    if not current(alert):
        raise RevealError("this alert has no buffered frames (none were sent, or they expired)")
    with transaction.atomic():
        audit.record(
            "live.frames_revealed", request=request, obj=alert, detail={"frames": alert.frames.count()}
        )
    request.session[SESSION_KEY] = [alert.pk, time.time()]


def hide(request) -> None:
    request.session.pop(SESSION_KEY, None)


def is_revealed(alert: LiveAlert, request) -> bool:
    shown = request.session.get(SESSION_KEY)
    return bool(shown) and shown[0] == alert.pk and time.time() - shown[1] <= settings.HOTLINE_REVEAL_SECONDS


def image(frame: LiveAlertFrame, request) -> bytes:
    """The frame as JPEG: sharp if its alert is revealed to this session, otherwise blurred."""
    if frame.expires_at <= timezone.now():
        raise RevealError("this frame has expired")
    try:
        key = reveal.load_key(settings.LIVE_BUFFER_KEY)
        jpeg = reveal.unseal(key, frame.alert.stream, bytes(frame.sealed))
    except reveal.BufferError as error:
        raise RevealError(str(error)) from None
    if is_revealed(frame.alert, request):
        return jpeg
    picture = Image.open(io.BytesIO(jpeg)).convert("L").filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=60)
    return out.getvalue()
