"""``openmnr live watch`` as a child process under the supervisor: events out as JSON lines, a
crashed child started again and watching as before."""

import os
import signal
import threading
import time

import pytest

import live_streams as ls
from openmnr.core.live.frames import QUALITY_THRESHOLD
from openmnr.core.live.session import StreamSpec
from openmnr.core.live.supervisor import Supervisor
from openmnr.core.signals import pdq


@pytest.mark.slow
def test_a_crashed_child_is_restarted_and_alerts_again(shared, tmp_path):
    known, benign = ls.known_and_benign()
    listed = [path for path in known if pdq.hash_media(path).quality >= QUALITY_THRESHOLD]
    hashes = tmp_path / "bank.txt"
    hashes.write_text("".join(f"{pdq.hash_media(path).value}\n" for path in listed))
    encoded = ls.encode(ls.plan(listed, benign, seconds=5, insertions=1, seed=5), size=(480, 270))
    port = ls.free_port()
    events, stop = [], threading.Event()
    supervisor = Supervisor(
        [StreamSpec(f"rtmp://127.0.0.1:{port}/live/x", listen=True)],
        events.append,
        watch_args=["--hashes", str(hashes), "--open-timeout", "1"],
        stop=stop,
    )
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()

    def wait_for(kind, timeout=40.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [event for event in events if event["event"] == kind]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {kind}; saw {[e['event'] for e in events]}")

    try:
        while supervisor.children[0].process is None:
            time.sleep(0.05)
        first = supervisor.children[0].process
        time.sleep(1.0)
        os.kill(first.pid, signal.SIGKILL)  # the child this test's supervisor started
        restarted = wait_for("restarted")
        assert restarted[0]["exit_code"] == -signal.SIGKILL
        deadline = time.time() + 20
        while supervisor.children[0].process is first and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(2.5)  # the new child imports and listens
        publisher = ls.publish_rtmp(encoded, port, speed=2.0)
        publisher.start()
        opened = wait_for("alert_opened")
        assert opened[0]["alert"]["entries"]
        wait_for("session_ended")
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert supervisor.children[0].process.poll() is not None  # stopped with the supervisor


def test_watch_refuses_bad_input_with_a_clear_message(tmp_path, capsys):
    from openmnr.cli import main

    assert main(["live", "watch", "--hashes", str(tmp_path / "none.txt"), "gopher://127.0.0.1/x"]) == 2
    assert "cannot watch gopher://" in capsys.readouterr().err
    assert main(["live", "watch", "--index-dir", str(tmp_path), "rtmp://127.0.0.1:1/live/x"]) == 2
    assert "bank_snapshot" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("not a hash\n")
    assert main(["live", "watch", "--hashes", str(bad), "rtmp://127.0.0.1:1/live/x"]) == 2
    assert main(["live", "watch", "--hashes", str(bad), "--k", "5", "rtmp://127.0.0.1:1/live/x"]) == 2


@pytest.mark.slow
def test_openmnr_live_watch_pulls_rtsp_and_sends_sealed_frames_with_the_alert(shared, tmp_path, monkeypatch):
    """``openmnr live watch rtsp://...`` in a child process, pulling from an RTSP server (the
    relay of tests/rtsp_relay.py), with the reveal buffer turned on: the alert's JSON line carries
    sealed frames that open with the key from the environment, and nothing else does."""
    from openmnr.core.live import reveal
    from rtsp_relay import RtspRelay

    known, benign = ls.known_and_benign()
    listed = [path for path in known if pdq.hash_media(path).quality >= QUALITY_THRESHOLD]
    hashes = tmp_path / "bank.txt"
    hashes.write_text("".join(f"{pdq.hash_media(path).value}\n" for path in listed))
    encoded = ls.encode(ls.plan(listed, benign, seconds=6, insertions=1, seed=3), size=(480, 270))
    key = reveal.new_key()
    monkeypatch.setenv(reveal.KEY_ENV, key)
    relay = RtspRelay(describe_wait=20.0)
    events, stop = [], threading.Event()
    supervisor = Supervisor(
        [StreamSpec(relay.url("live/cam-7"))],
        events.append,
        watch_args=["--hashes", str(hashes), "--open-timeout", "25", "--reveal-buffer", "3"],
        stop=stop,
    )
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while "DESCRIBE reader" not in relay.requests and time.time() < deadline:
            time.sleep(0.05)  # the child is up and waiting for the stream
        publisher = ls.Publisher(
            encoded, relay.url("live/cam-7"), "rtsp", options={"rtsp_transport": "tcp"}, speed=2.0
        )
        publisher.start()
        deadline = time.time() + 40
        while not any(e["event"] == "session_ended" for e in events) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(30)
        relay.close()
    kinds = [event["event"] for event in events]
    assert "alert_opened" in kinds and "session_ended" in kinds, kinds
    assert publisher.error is None
    opened = next(event for event in events if event["event"] == "alert_opened")
    assert opened["stream"] == relay.url("live/cam-7") and opened["alert"]["entries"]
    frames = [reveal.SealedFrame.from_dict(frame) for frame in opened["frames"]]
    assert frames and all(
        reveal.unseal(reveal.load_key(key), opened["stream"], f.sealed).startswith(b"\xff\xd8")
        for f in frames
    )
    assert all("frames" not in event for event in events if not event["event"].startswith("alert_"))
