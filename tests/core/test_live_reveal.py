"""The monitor's optional reveal buffer: off by default; when on, only sealed frames of the last
seconds, sent with the alert and nowhere else."""

import argparse
import io

import numpy as np
import pytest
from PIL import Image

from openmnr.core.live import cli, reveal
from openmnr.core.live.session import Settings, StreamSpec, Watcher

STREAM = "rtmp://127.0.0.1:1935/live/a"


def card(shade: int) -> np.ndarray:
    luma = np.full((720, 1280), shade, np.uint8)
    luma[:, ::64] = 255 - shade
    return luma


def test_sealed_frames_are_not_the_picture_and_open_only_with_key_and_stream():
    key = reveal.load_key(reveal.new_key())
    buffer = reveal.RevealBuffer(key, STREAM, seconds=3)
    buffer.add(1.0, 0.0, card(30))
    sealed = buffer.ring[0].sealed
    jpeg = reveal.unseal(key, STREAM, sealed)
    assert jpeg.startswith(b"\xff\xd8") and not sealed.startswith(b"\xff\xd8") and jpeg not in sealed
    shown = Image.open(io.BytesIO(jpeg))
    assert shown.mode == "L" and shown.width == reveal.WIDTH  # grey, scaled down
    assert abs(float(np.asarray(shown).mean()) - float(card(30).mean())) < 4
    with pytest.raises(reveal.BufferError):
        reveal.unseal(reveal.load_key(reveal.new_key()), STREAM, sealed)
    with pytest.raises(reveal.BufferError):
        reveal.unseal(key, "rtmp://127.0.0.1:1935/live/b", sealed)
    # Two seals of the same picture differ (a fresh nonce each time).
    buffer.add(1.5, 0.0, card(30))
    assert buffer.ring[0].sealed[:12] != buffer.ring[1].sealed[:12]


def test_the_ring_keeps_the_last_seconds_and_each_frame_is_sent_once():
    key = reveal.load_key(reveal.new_key())
    buffer = reveal.RevealBuffer(key, STREAM, seconds=3)
    for step in range(21):  # ten seconds of stream at two samples a second
        buffer.add(step / 2, 0.0, card(step))
    assert [frame.seconds for frame in buffer.ring] == [7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
    sent = buffer.take()
    assert [frame["t"] for frame in sent] == [7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0]
    assert reveal.SealedFrame.from_dict(sent[0]).sealed == buffer.ring[0].sealed
    assert buffer.take() == []
    buffer.add(10.5, 0.0, card(1))
    assert [frame["t"] for frame in buffer.take()] == [10.5]


def test_keys_that_are_missing_or_malformed_are_refused():
    for value in ("", None, "not base64 !", "c2hvcnQ="):
        with pytest.raises(reveal.BufferError):
            reveal.load_key(value)


def test_the_buffer_is_off_by_default(monkeypatch):
    parser = argparse.ArgumentParser()
    cli.add_watch_arguments(parser)
    assert parser.parse_args(["rtmp://127.0.0.1/x"]).reveal_buffer == 0
    watcher = Watcher(StreamSpec(STREAM), index=None, emit=lambda event: None, settings=Settings())
    assert watcher.reveal is None


def test_turning_it_on_without_a_key_is_refused(monkeypatch, capsys):
    monkeypatch.delenv(reveal.KEY_ENV, raising=False)
    parser = argparse.ArgumentParser()
    cli.add_watch_arguments(parser)
    args = parser.parse_args(["--hashes", "/nonexistent", "--reveal-buffer", "4", "rtmp://127.0.0.1/x"])
    assert cli.run_watch(args) == 2
    assert "OPENMNR_LIVE_BUFFER_KEY" in capsys.readouterr().err


def test_the_watch_webhook_never_carries_the_frames():
    from openmnr.core.live import webhook

    event = {"event": "alert_opened", "stream": STREAM, "alert": {"key": "k"}, "frames": [{"sealed": "x"}]}
    assert webhook.alert_body(event) == {"event": "alert_opened", "stream": STREAM, "alert": {"key": "k"}}
