"""The live monitor on real streams served on 127.0.0.1: each protocol, and what goes wrong.

The streams are made from the benign corpus (tests/live_streams.py): benign pictures with a slow
zoom, and pictures of the test bank cut in. Small frames and faster-than-real-time sending keep the
module to a few seconds a test.
"""

import threading
import time

import pytest

import live_streams as ls
from openmnr.core.index import PDQIndex
from openmnr.core.live.frames import QUALITY_THRESHOLD
from openmnr.core.live.index import FixedIndex
from openmnr.core.live.session import Settings, StreamError, StreamSpec, Watcher
from openmnr.core.signals import pdq

SIZE = (480, 270)
FAST = Settings(open_timeout=1.0, read_timeout=2.0)
SPEED = 3.0


@pytest.fixture(scope="module")
def bank(shared):
    """The known pictures (those of good quality, as a bank holds) and an index of them."""
    known, benign = ls.known_and_benign()
    hashes = {path: pdq.hash_media(path) for path in known}
    listed = [path for path in known if hashes[path].quality >= QUALITY_THRESHOLD]
    index = PDQIndex.build([hashes[p].value for p in listed], list(range(1, len(listed) + 1)))
    return listed, benign, FixedIndex(index)


@pytest.fixture(scope="module")
def one_insertion(bank):
    listed, benign, _ = bank
    return ls.encode(ls.plan(listed, benign, seconds=6, insertions=1, seed=3), size=SIZE)


@pytest.fixture(scope="module")
def benign_only(bank):
    _, benign, _ = bank
    return ls.encode(ls.plan([], benign, seconds=6, insertions=0, seed=4), size=SIZE)


class Run:
    """A watcher in a thread, collecting its events."""

    def __init__(self, spec, index, settings=FAST, reveal=None):
        self.events = []
        self.stop = threading.Event()
        self.watcher = Watcher(spec, index, self.events.append, settings, self.stop, reveal)
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()

    def kinds(self):
        return [event.kind for event in self.events]

    def wait_for(self, kind, count=1, timeout=30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.kinds().count(kind) >= count:
                return [event for event in self.events if event.kind == kind]
            time.sleep(0.05)
        raise AssertionError(f"no {kind} event within {timeout} s; saw {self.kinds()}")

    def finish(self):
        self.stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive()


def assert_one_alert(run, publisher):
    opened = run.wait_for("alert_opened")
    closed = run.wait_for("alert_closed")
    run.wait_for("session_ended")
    assert publisher.error is None
    assert len(opened) == 1 and len(closed) == 1
    alert = closed[0].detail["alert"]
    assert alert["entries"] and alert["closed"]
    # The reveal buffer is off by default: no frame, sealed or not, leaves with the alert.
    assert "frames" not in opened[0].detail and "frames" not in closed[0].detail
    # The alert came within two seconds of the known picture being sent (at three times real time).
    assert opened[0].wall - publisher.sent_known[0] < 2.0
    return alert


def test_rtmp_server_alerts_on_a_known_picture_and_closes_at_the_end(bank, one_insertion):
    port = ls.free_port()
    run = Run(StreamSpec(f"rtmp://127.0.0.1:{port}/live/secret-key", listen=True), bank[2])
    publisher = ls.publish_rtmp(one_insertion, port, speed=SPEED)
    publisher.start()
    assert_one_alert(run, publisher)
    run.finish()
    assert run.watcher.counters.sessions == 1


def test_rtsp_server_alerts(bank, one_insertion):
    port = ls.free_port()
    run = Run(StreamSpec(f"rtsp://127.0.0.1:{port}/live", listen=True), bank[2])
    publisher = ls.publish_rtsp(one_insertion, port, speed=SPEED)
    publisher.start()
    assert_one_alert(run, publisher)
    run.finish()


def test_mpegts_over_tcp_alerts(bank, one_insertion):
    port = ls.free_port()
    run = Run(StreamSpec(f"tcp://127.0.0.1:{port}", listen=True), bank[2])
    publisher = ls.publish_tcp(one_insertion, port, speed=SPEED)
    publisher.start()
    assert_one_alert(run, publisher)
    run.finish()


def test_hls_client_alerts_and_the_session_ends_with_the_playlist(bank, one_insertion, tmp_path):
    server, port = ls.serve_folder(tmp_path)
    try:
        publisher = ls.publish_hls(one_insertion, tmp_path, segment_seconds=1, speed=SPEED)
        publisher.start()
        while not (tmp_path / "stream.m3u8").exists():
            time.sleep(0.05)
        run = Run(StreamSpec(f"http://127.0.0.1:{port}/stream.m3u8"), bank[2])
        run.wait_for("alert_opened", timeout=30)
        run.wait_for("session_ended", timeout=30)
        run.thread.join(10)
        assert not run.thread.is_alive()  # a client stream that ends stops its watcher
        assert run.kinds()[-1] == "stopped"
    finally:
        server.shutdown()


def test_benign_stream_raises_no_alert(bank, benign_only):
    port = ls.free_port()
    run = Run(StreamSpec(f"rtmp://127.0.0.1:{port}/live/x", listen=True), bank[2])
    publisher = ls.publish_rtmp(benign_only, port, speed=3.0)
    publisher.start()
    run.wait_for("session_ended")
    run.finish()
    assert "alert_opened" not in run.kinds()
    assert run.watcher.counters.sampled >= 12  # two a second over six seconds, at least


def test_corrupt_packets_do_not_stop_the_monitor(bank, one_insertion):
    port = ls.free_port()
    run = Run(StreamSpec(f"rtmp://127.0.0.1:{port}/live/x", listen=True), bank[2])
    publisher = ls.publish_rtmp(one_insertion, port, speed=SPEED, corrupt_at=0.5)
    publisher.start()
    run.wait_for("alert_opened")
    run.wait_for("session_ended")
    run.finish()
    assert run.watcher.counters.sessions == 1 and run.watcher.counters.frames > 100


@pytest.mark.slow
def test_a_change_of_resolution_is_followed(bank, benign_only, one_insertion):
    _, benign, _ = bank
    smaller = ls.encode(ls.plan([], benign, seconds=2, insertions=0, seed=9), size=(320, 180))
    port = ls.free_port()
    run = Run(StreamSpec(f"tcp://127.0.0.1:{port}", listen=True), bank[2])
    publisher = ls.publish_tcp(smaller, port, speed=SPEED, resize_after=one_insertion)
    publisher.start()
    run.wait_for("alert_opened")
    run.wait_for("session_ended")
    run.finish()
    assert publisher.error is None and run.watcher.counters.sessions == 1


@pytest.mark.slow
def test_a_stalled_publisher_ends_its_session_and_the_next_one_is_watched(bank, one_insertion):
    port = ls.free_port()
    settings = Settings(open_timeout=1.0, read_timeout=1.0)
    run = Run(StreamSpec(f"rtmp://127.0.0.1:{port}/live/x", listen=True), bank[2], settings)
    stalled = ls.publish_rtmp(one_insertion, port, speed=SPEED, stall=(1.0, 4.0))
    stalled.start()
    run.wait_for("session_ended", timeout=30)
    stalled.finished.wait(30)
    again = ls.publish_rtmp(one_insertion, port, speed=SPEED)
    again.start()
    run.wait_for("alert_opened", timeout=30)
    run.wait_for("session_ended", count=2, timeout=30)
    run.finish()
    assert run.watcher.counters.sessions == 2


def test_a_client_reconnects_until_the_server_answers(bank, one_insertion, tmp_path):
    port = ls.free_port()
    run = Run(StreamSpec(f"http://127.0.0.1:{port}/stream.m3u8"), bank[2])
    run.wait_for("reconnecting")
    publisher = ls.publish_hls(one_insertion, tmp_path, segment_seconds=1, speed=SPEED)
    publisher.start()
    while not (tmp_path / "stream.m3u8").exists():
        time.sleep(0.05)
    import functools
    import http.server

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(ls._Quiet, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run.wait_for("alert_opened", timeout=40)
    finally:
        run.finish()
        server.shutdown()


def test_addresses_that_cannot_be_watched_are_refused():
    with pytest.raises(StreamError):
        StreamSpec("gopher://127.0.0.1/x")
    with pytest.raises(StreamError):
        StreamSpec("http://127.0.0.1/x.m3u8", listen=True)
    assert (
        StreamSpec("rtmp://user:pw@127.0.0.1:1935/live/key?token=1").name == "rtmp://127.0.0.1:1935/live/key"
    )


def test_rtmp_client_pulls_from_a_server(bank, one_insertion):
    """The monitor as an RTMP client (pulling from a media server; here FFmpeg's own RTMP server
    mode on the sending side)."""
    port = ls.free_port()
    publisher = ls.Publisher(
        one_insertion, f"rtmp://127.0.0.1:{port}/live/x", "flv", options={"listen": "1"}, connect_delay=0.0,
        speed=SPEED,
    )  # fmt: skip
    publisher.start()
    run = Run(StreamSpec(f"rtmp://127.0.0.1:{port}/live/x"), bank[2])
    run.wait_for("alert_opened")
    run.wait_for("session_ended")
    run.thread.join(10)
    assert publisher.error is None and not run.thread.is_alive()


def test_mpegts_over_udp_alerts(bank, one_insertion):
    port = ls.free_port()
    run = Run(StreamSpec(f"udp://127.0.0.1:{port}"), bank[2], Settings(open_timeout=2.0, read_timeout=1.0))
    time.sleep(0.5)
    publisher = ls.Publisher(one_insertion, f"udp://127.0.0.1:{port}?pkt_size=1316", "mpegts", speed=SPEED)
    publisher.start()
    run.wait_for("alert_opened")
    run.wait_for("session_ended")  # UDP has no end: the session ends when packets stop coming
    run.finish()
    assert publisher.error is None


def test_rtsp_client_pulls_from_a_media_server(bank, one_insertion):
    """The monitor as an RTSP client (``openmnr live watch rtsp://...``) pulling from a media
    server: a tool publishes to the relay (tests/rtsp_relay.py) with FFmpeg's RTSP muxer, the
    monitor reads the same path with DESCRIBE/SETUP/PLAY over TCP, finds the known picture, and its
    session ends when the publisher leaves."""
    from rtsp_relay import RtspRelay

    relay = RtspRelay()
    try:
        settings = Settings(open_timeout=8.0, read_timeout=2.0)
        run = Run(StreamSpec(relay.url("live/stream-42")), bank[2], settings)
        publisher = ls.Publisher(
            one_insertion, relay.url("live/stream-42"), "rtsp", options={"rtsp_transport": "tcp"},
            speed=SPEED, connect_delay=0.3,
        )  # fmt: skip
        publisher.start()
        opened = run.wait_for("alert_opened")
        run.wait_for("session_ended")
        run.thread.join(10)
        assert publisher.error is None and not run.thread.is_alive()
        assert opened[0].stream == f"rtsp://127.0.0.1:{relay.port}/live/stream-42"
        assert opened[0].wall - publisher.sent_known[0] < 2.0
        assert opened[0].detail["alert"]["entries"]
        assert "PLAY reader" in relay.requests and "RECORD publisher" in relay.requests
    finally:
        relay.close()


def test_with_the_reveal_buffer_on_the_alert_carries_sealed_frames_of_the_known_picture(bank, one_insertion):
    from openmnr.core.live import reveal

    key = reveal.load_key(reveal.new_key())
    port = ls.free_port()
    spec = StreamSpec(f"rtmp://127.0.0.1:{port}/live/x", listen=True)
    run = Run(spec, bank[2], reveal=reveal.RevealBuffer(key, spec.name, seconds=3))
    publisher = ls.publish_rtmp(one_insertion, port, speed=SPEED)
    publisher.start()
    opened = run.wait_for("alert_opened")[0]
    run.wait_for("session_ended")
    run.finish()
    sent = [reveal.SealedFrame.from_dict(frame) for frame in opened.detail["frames"]]
    # Three seconds of samples up to the alert, the last ones the known picture.
    assert 2 <= len(sent) <= 9
    assert sent[-1].seconds - sent[0].seconds <= 3.0 + 1e-6
    jpegs = [reveal.unseal(key, spec.name, frame.sealed) for frame in sent]
    assert all(jpeg.startswith(b"\xff\xd8") for jpeg in jpegs)
    assert not run.watcher.reveal.ring  # emptied when the session ended
