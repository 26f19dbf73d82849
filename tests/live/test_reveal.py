"""The optional reveal buffer in the platform: frames kept sealed, blurred until a step-up reveal
(audited), deleted when they expire, and nothing kept when the buffer is off (the default)."""

import io
import time
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from helpers import new_bank
from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.audit.models import AuditEvent
from openmnr.core.live import reveal
from openmnr.live import frames, intake
from openmnr.live.models import LiveAlertFrame

STREAM = "rtmp://127.0.0.1:1935/live/a"


def entry(bank, value):
    from django.contrib.auth import get_user_model

    from openmnr.banks.models import BankEntry

    proposer, _ = get_user_model().objects.get_or_create(username="proposer")
    return BankEntry.objects.create(
        bank=bank,
        signal_type="pdq",
        value=value,
        classification="baseline",
        status="active",
        proposed_by=proposer,
    )


def alert_event(kind, entries, *, stream=STREAM):
    now = time.time()
    alert = {
        "key": "k1",
        "stream": stream,
        "first_match": 10.0,
        "last_match": 11.0,
        "first_match_wall": now - 2,
        "last_match_wall": now,
        "opened_wall": now - 1,
        "entries": {str(e): d for e, d in entries.items()},
        "matching_samples": 3,
        "closed": kind == "alert_closed",
    }
    return {"event": kind, "stream": stream, "at": now, "alert": alert}


def picture(shade: int) -> np.ndarray:
    """A generated grey test card: stripes and a square, different for each shade."""
    luma = np.full((360, 640), shade, np.uint8)
    luma[:, ::40] = 255 - shade
    luma[100:260, 240:400] = (shade + 128) % 256
    return luma


def sealed_frames(key: bytes, count: int = 3) -> tuple[list[dict], list[bytes]]:
    buffer = reveal.RevealBuffer(key, STREAM, seconds=4)
    for i in range(count):
        buffer.add(10.0 + i / 2, time.time(), picture(40 + 50 * i))
    sent = buffer.take()
    return sent, [reveal.unseal(key, STREAM, frame.sealed) for frame in buffer.ring]


@pytest.fixture
def key(settings):
    text = reveal.new_key()
    settings.LIVE_REVEAL_BUFFER_SECONDS = 4
    settings.LIVE_BUFFER_KEY = text
    settings.LIVE_REVEAL_KEEP_SECONDS = 3600
    return reveal.load_key(text)


@pytest.fixture
def buffered(db, key):
    sent, jpegs = sealed_frames(key)
    bank = new_bank("confirmed_csam", name="Confirmed")
    event = alert_event("alert_opened", {entry(bank, "e" * 64).pk: 4}, stream=STREAM)
    alert = intake.record_event({**event, "frames": sent})
    return alert, jpegs


def test_the_buffer_is_off_by_default_and_then_nothing_is_kept(db):
    from django.conf import settings

    assert settings.LIVE_REVEAL_BUFFER_SECONDS == 0
    some_key = reveal.load_key(reveal.new_key())
    sent, _ = sealed_frames(some_key)
    bank = new_bank("confirmed_csam")
    event = alert_event("alert_opened", {entry(bank, "f" * 64).pk: 2}, stream=STREAM)
    alert = intake.record_event({**event, "frames": sent})
    assert alert is not None and LiveAlertFrame.objects.count() == 0


def test_frames_are_stored_sealed_not_as_pictures(buffered, key):
    alert, jpegs = buffered
    stored = [bytes(frame.sealed) for frame in LiveAlertFrame.objects.filter(alert=alert)]
    assert len(stored) == 3
    for data, jpeg in zip(stored, jpegs, strict=True):
        assert not data.startswith(b"\xff\xd8") and jpeg not in data and jpeg[200:264] not in data
        assert reveal.unseal(key, STREAM, data) == jpeg  # the key opens it, and only for its stream
        with pytest.raises(reveal.BufferError):
            reveal.unseal(key, "rtmp://127.0.0.1:1935/live/other", data)
        with pytest.raises(reveal.BufferError):
            reveal.unseal(reveal.load_key(reveal.new_key()), STREAM, data)
    assert AuditEvent.objects.get(action="live.alert_raised").detail["frames"] == 3


def test_frames_are_blurred_until_revealed_with_step_up_and_the_reveal_is_audited(staff_client, buffered):
    alert, jpegs = buffered
    client, user = staff_client("analyst")
    frame = LiveAlertFrame.objects.filter(alert=alert).first()
    page = client.get(f"/staff/live/{alert.pk}/").content.decode()
    assert "Blurred frame" in page and f"/staff/live/{alert.pk}/reveal/" in page
    blurred = client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/")
    assert blurred.status_code == 200 and blurred["Cache-Control"].startswith("no-store")
    assert blurred.content != jpegs[0]
    shown = np.asarray(Image.open(io.BytesIO(blurred.content)), dtype=float)
    sharp = np.asarray(Image.open(io.BytesIO(jpegs[0])), dtype=float)
    assert np.abs(np.diff(shown, axis=1)).mean() < np.abs(np.diff(sharp, axis=1)).mean() / 3  # no edges left

    # A second factor older than the step-up window: the reveal goes to the step-up page first.
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    answer = client.post(f"/staff/live/{alert.pk}/reveal/")
    assert answer.status_code == 302 and "step-up" in answer["Location"]
    assert not AuditEvent.objects.filter(action="live.frames_revealed").exists()
    assert client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/").content != jpegs[0]

    session = client.session
    session[STEP_UP_KEY] = time.time()
    session.save()
    revealed = client.post(f"/staff/live/{alert.pk}/reveal/")
    assert revealed.status_code == 302 and revealed["Location"] == f"/staff/live/{alert.pk}/"
    event = AuditEvent.objects.get(action="live.frames_revealed")
    assert event.actor == user.username and event.object_id == str(alert.pk) and event.detail["frames"] == 3
    assert client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/").content == jpegs[0]
    hidden = client.post(f"/staff/live/{alert.pk}/hide/")
    assert hidden.status_code == 302 and hidden["Location"] == f"/staff/live/{alert.pk}/"
    assert client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/").content != jpegs[0]


def test_administrators_cannot_reveal(staff_client, buffered):
    alert, jpegs = buffered
    client, _ = staff_client("administrator")
    assert client.post(f"/staff/live/{alert.pk}/reveal/").status_code == 403
    frame = LiveAlertFrame.objects.filter(alert=alert).first()
    assert client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/").content != jpegs[0]


def test_expired_frames_are_deleted_and_no_longer_served(staff_client, buffered):
    alert, _ = buffered
    client, _ = staff_client("analyst")
    frame = LiveAlertFrame.objects.filter(alert=alert).first()
    assert frames.expire() == 0
    # The keeping time passes.
    LiveAlertFrame.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/staff/live/{alert.pk}/frames/{frame.pk}/").status_code == 404
    assert frames.expire() == 3
    assert LiveAlertFrame.objects.count() == 0
    page = client.get(f"/staff/live/{alert.pk}/").content.decode()
    assert "Buffered frames" not in page


def test_serve_turns_the_monitors_buffer_on_only_when_configured(settings):
    from openmnr.live import serve

    assert "--reveal-buffer" not in serve.watch_args()
    settings.LIVE_REVEAL_BUFFER_SECONDS = 6
    args = serve.watch_args()
    assert args[args.index("--reveal-buffer") + 1] == "6"
