"""Synthetic live streams for the live-monitor tests and bench/live.py.

A stream is made of segments, each one picture of the benign corpus (../shared/corpus/natural)
shown for some seconds: a benign picture with a slow zoom and pan, a "known" picture (one put in the
test bank) stretched to fill the frame and still, as a replay would show it. ``encode`` renders the
segments with PyAV (H.264, no B-frames, a key frame every second, as live encoders are set) into
MPEG-TS bytes in memory; ``Publisher`` sends those packets, paced at real time, to an RTMP or RTSP
server (``publish_rtmp`` / ``publish_rtsp``: the monitor listens, the publisher connects as OBS
would), to a TCP MPEG-TS listener, or as an HLS playlist written into a folder that ``serve_folder``
serves over HTTP on 127.0.0.1. Every send of a known segment's first frame is time-stamped so that
detection latency can be measured from it. Nothing is copied from the corpus into the repository.
"""

import contextlib
import csv
import functools
import http.server
import io
import random
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "natural"
KNOWN_SOURCES = ("astronaut", "rocket")


def corpus_by_source() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    with open(CORPUS / "SOURCES.csv", newline="") as file:
        for row in csv.DictReader(file):
            found.setdefault(row["source_image"], []).append(CORPUS / row["file"])
    return found


def known_and_benign() -> tuple[list[Path], list[Path]]:
    """Pictures for the bank (every tile of ``KNOWN_SOURCES``) and benign ones (every other
    source: tiles of one source may overlap, so a benign tile never shares a source with a known)."""
    groups = corpus_by_source()
    known = [path for source in KNOWN_SOURCES for path in groups[source]]
    benign = [path for source, paths in groups.items() if source not in KNOWN_SOURCES for path in paths]
    return known, benign


@dataclass(frozen=True)
class Segment:
    picture: Path
    seconds: float
    known: bool = False


@dataclass
class Encoded:
    """An encoded stream: MPEG-TS bytes and where (stream seconds) each known segment starts."""

    data: bytes
    fps: int
    size: tuple[int, int]
    known_starts: list[float] = field(default_factory=list)
    seconds: float = 0.0


def plan(
    known: list[Path],
    benign: list[Path],
    *,
    seconds: float,
    insertions: int,
    seed: int = 0,
    known_seconds: float = 3.0,
) -> list[Segment]:
    """Benign segments of 2-6 s with ``insertions`` known segments at random places between them."""
    rng = random.Random(seed)
    segments: list[Segment] = []
    total = 0.0
    while total < seconds:
        length = rng.uniform(2.0, 6.0)
        segments.append(Segment(rng.choice(benign), length))
        total += length
    slots = sorted(rng.sample(range(1, max(len(segments), insertions + 1)), insertions)) if insertions else []
    for offset, slot in enumerate(slots):
        segments.insert(slot + offset, Segment(rng.choice(known), known_seconds, known=True))
    return segments


def _frames(segment: Segment, size: tuple[int, int], fps: int, rng: random.Random):
    width, height = size
    picture = Image.open(segment.picture).convert("RGB")
    count = max(1, round(segment.seconds * fps))
    if segment.known:
        still = np.asarray(picture.resize(size, Image.Resampling.BILINEAR))
        for _ in range(count):
            yield still
        return
    # A slow zoom and pan over the picture: each frame differs a little from the last.
    start_zoom, end_zoom = rng.uniform(1.0, 1.15), rng.uniform(1.0, 1.15)
    pw, ph = picture.size
    for i in range(count):
        t = i / max(count - 1, 1)
        zoom = start_zoom + (end_zoom - start_zoom) * t
        cw, ch = pw / zoom, ph / zoom
        left = (pw - cw) * t
        top = (ph - ch) * (1 - t)
        yield np.asarray(
            picture.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
        )


def encode(segments: list[Segment], *, size=(1280, 720), fps: int = 30, seed: int = 0) -> Encoded:
    """Render and encode ``segments`` (see the module docstring)."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    out = av.open(buffer, mode="w", format="mpegts")
    stream = out.add_stream("libx264", rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0"}
    encoded = Encoded(b"", fps, size)
    pts = 0
    for segment in segments:
        if segment.known:
            encoded.known_starts.append(pts / fps)
        for pixels in _frames(segment, size, fps, rng):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, fps)
            pts += 1
            for packet in stream.encode(frame):
                out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    encoded.data = buffer.getvalue()
    encoded.seconds = pts / fps
    return encoded


class Publisher(threading.Thread):
    """Sends an encoded stream to ``url`` in container ``fmt``, paced at real time (``speed`` > 1
    sends faster). ``sent_known`` gets the wall time at which each known segment's first packet
    was sent."""

    def __init__(
        self,
        encoded: Encoded,
        url: str,
        fmt: str,
        *,
        options=None,
        speed: float = 1.0,
        connect_delay: float = 0.3,
        corrupt_at: float | None = None,
        stall: tuple | None = None,
        resize_after: Encoded | None = None,
    ):
        super().__init__(daemon=True)
        self.encoded, self.url, self.fmt = encoded, url, fmt
        self.options = options or {}
        self.speed, self.connect_delay = speed, connect_delay
        self.corrupt_at, self.stall = corrupt_at, stall
        self.then = resize_after
        self.sent_known: list[float] = []
        self.error: BaseException | None = None
        self.finished = threading.Event()

    def run(self):
        try:
            time.sleep(self.connect_delay)
            out = self._connect()
            try:
                self._send(out, self.encoded, first=True)
                if self.then is not None:
                    self._send(out, self.then, first=False)
            finally:
                out.close()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            self.error = error
        finally:
            self.finished.set()

    def _connect(self, patience: float = 15.0):
        """Open the output and write its header (where FFmpeg connects), trying again while the
        server refuses, as OBS or FFmpeg's own reconnecting publishers do: a listener between two
        sessions (it has closed one and does not yet listen again) refuses for a moment, longer
        on a loaded machine."""
        deadline = time.monotonic() + patience
        while True:
            out = av.open(self.url, mode="w", format=self.fmt, options=self.options)
            source = av.open(io.BytesIO(self.encoded.data), format="mpegts")
            self.out_stream = out.add_stream_from_template(source.streams.video[0])
            source.close()
            try:
                out.start_encoding()
                return out
            except ConnectionRefusedError:
                with contextlib.suppress(Exception):
                    out.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _send(self, out, encoded: Encoded, *, first: bool):
        source = av.open(io.BytesIO(encoded.data), format="mpegts")
        template = source.streams.video[0]
        if first:
            self.offset = 0.0
        known = list(encoded.known_starts)
        start = time.time()
        base = None
        last_seconds = 0.0
        for packet in source.demux(template):
            if packet.dts is None:
                continue
            seconds = float(packet.pts * packet.time_base)
            if base is None:
                base = seconds
            elapsed = seconds - base
            last_seconds = elapsed
            if self.stall and self.stall[0] <= elapsed and not getattr(self, "_stalled", False):
                self._stalled = True
                time.sleep(self.stall[1])
                start += self.stall[1]
            delay = start + elapsed / self.speed - time.time()
            if delay > 0:
                time.sleep(delay)
            if known and elapsed + 1e-6 >= known[0]:
                known.pop(0)
                self.sent_known.append(time.time())
            if self.corrupt_at is not None and abs(elapsed - self.corrupt_at) < 0.02:
                data = bytearray(bytes(packet))
                for i in range(8, len(data), 7):
                    data[i] ^= 0x5A
                bad = av.Packet(bytes(data))
                bad.pts, bad.dts, bad.time_base = packet.pts, packet.dts, packet.time_base
                packet = bad
            packet.stream = self.out_stream
            packet.pts = packet.pts + round(self.offset / packet.time_base) if self.offset else packet.pts
            packet.dts = packet.pts
            out.mux(packet)
        self.offset += last_seconds + 1.0 / encoded.fps
        source.close()


def publish_rtmp(encoded: Encoded, port: int, **kw) -> Publisher:
    return Publisher(encoded, f"rtmp://127.0.0.1:{port}/live/test-key", "flv", **kw)


def publish_rtsp(encoded: Encoded, port: int, **kw) -> Publisher:
    return Publisher(
        encoded, f"rtsp://127.0.0.1:{port}/live", "rtsp", options={"rtsp_transport": "tcp"}, **kw
    )


def publish_tcp(encoded: Encoded, port: int, **kw) -> Publisher:
    return Publisher(encoded, f"tcp://127.0.0.1:{port}", "mpegts", **kw)


def publish_hls(encoded: Encoded, folder: Path, *, segment_seconds: int = 2, **kw) -> Publisher:
    return Publisher(
        encoded,
        str(folder / "stream.m3u8"),
        "hls",
        options={"hls_time": str(segment_seconds), "hls_list_size": "6", "hls_flags": "delete_segments"},
        connect_delay=0.0,
        **kw,
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_folder(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    """An HTTP server on 127.0.0.1 (a free port) for ``folder``; call ``shutdown()`` when done."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
