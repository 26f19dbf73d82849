"""Watching one stream: connect (or listen), decode, sample, hash, match, apply the alert rule.

A ``Watcher`` runs in one thread (or process) per stream and reports through a callback of
``Event`` values; nothing else leaves it. Decoded frames live only in the decoder's buffers and the
numpy view of the luma plane being hashed: no frame is written anywhere, and events carry hashes'
matches (entry ids, distances) and times, never pixels nor the frames' own hashes.

Ingest is FFmpeg through PyAV, so any input FFmpeg reads works; the ones a platform uses:

==================  ==========================================================================
``rtmp://``         as a client (pull from a media server) or, with ``listen``, as a server a
                    streaming tool publishes to (FFmpeg's ``listen`` option)
``rtsp://``         as a client (TCP transport) or, with ``listen``, as a server that accepts
                    an ANNOUNCE/RECORD publisher (``rtsp_flags=listen``)
``tcp://`` ``udp://``  MPEG-TS; ``tcp`` with ``listen`` accepts one sender
``http(s)://``      HLS playlists (live: starts at the newest segment) and plain files
==================  ==========================================================================

The states of a stream, and what moves between them:

- *connecting*: opening the input. A client gives up an attempt after ``open_timeout`` and tries
  again after a back-off (0.5 s doubling to 10 s); a listener waits for a publisher in slices of
  ``open_timeout`` (FFmpeg's own listen timeout) so that ``stop`` is seen.
- *streaming*: frames arrive. A packet the decoder refuses (corrupt data) is counted and skipped.
  No packet for ``read_timeout`` (a stall) or a broken connection: a client goes back to
  *connecting* within the same session (an open alert stays open; the sampler starts afresh, since
  stream times restart); for a listener the publisher is gone, so its session ends. A client that
  cannot reconnect for longer than ``read_timeout`` ends the session too (many servers end a
  stream by closing the connection, which looks like a break). A change of resolution needs nothing: each frame is hashed at its own size.
- *ended*: the input says end of stream. The session closes (an open alert is closed with its
  span) and a ``session_ended`` event goes out. A client stream then stops unless ``follow`` is
  set (``openmnr live serve`` sets it: the next broadcast at the URL is a new session); a listener
  listens again for the next publisher.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .frames import DEFAULT_RATE, DEFAULT_SCENE_THRESHOLD, Sampler, hash_frame, limited_range, luma_of
from .index import match
from .rule import DEFAULT_K, DEFAULT_W, AlertRule, Sample

log = logging.getLogger(__name__)

SCHEMES = ("rtmp", "rtsp", "tcp", "udp", "http", "https", "file")
LISTEN_SCHEMES = ("rtmp", "rtsp", "tcp")


class StreamError(ValueError):
    """A stream address or option that cannot be watched."""


@dataclass(frozen=True)
class Settings:
    """How a stream is watched; the defaults are those of docs/live.md."""

    rate: float = DEFAULT_RATE
    scene_threshold: float = DEFAULT_SCENE_THRESHOLD
    k: int = DEFAULT_K
    w: int = DEFAULT_W
    radius: int = 31
    dihedral: bool = True
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    follow: bool = False
    #: Decoder threads per stream; 1 keeps one stream on one core (the benchmark's unit).
    decode_threads: int = 1
    #: Failed connection attempts in a row after which a client gives up (None: never).
    max_reconnects: int | None = None


@dataclass(frozen=True)
class Event:
    """What a watcher reports. ``kind``: session_started, alert_opened, alert_closed,
    session_ended, reconnecting, stopped."""

    kind: str
    stream: str
    wall: float
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"event": self.kind, "stream": self.stream, "at": self.wall, **self.detail}


@dataclass(frozen=True)
class StreamSpec:
    """One stream to watch: its address, the identifier alerts carry, and whether to listen."""

    url: str
    name: str = ""
    listen: bool = False

    def __post_init__(self):
        scheme = urlsplit(self.url).scheme or "file"
        if scheme not in SCHEMES:
            raise StreamError(f"cannot watch {scheme}:// streams; use one of {', '.join(SCHEMES)}")
        if self.listen and scheme not in LISTEN_SCHEMES:
            raise StreamError(f"only {', '.join(LISTEN_SCHEMES)} addresses can listen")
        if not self.name:
            object.__setattr__(self, "name", _identifier(self.url))


def _identifier(url: str) -> str:
    """The address without credentials or query (stream keys often sit in either)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url


@dataclass
class Counters:
    frames: int = 0
    sampled: int = 0
    low_quality: int = 0
    matched: int = 0
    corrupt_packets: int = 0
    reconnects: int = 0
    sessions: int = 0


class Watcher:
    """Watches one stream until ``stop`` is set (or it ends and is not followed)."""

    def __init__(
        self,
        spec: StreamSpec,
        index,
        emit: Callable[[Event], None],
        settings: Settings = Settings(),
        stop: threading.Event | None = None,
        reveal=None,
    ):
        """``reveal``: a ``reveal.RevealBuffer`` when the operator turned the buffer on (it is off
        by default, and then no frame is kept beyond the one being hashed)."""
        self.spec, self.index, self.emit, self.settings = spec, index, emit, settings
        self.reveal = reveal
        self.stop = stop or threading.Event()
        self.counters = Counters()
        self.sampler = Sampler(settings.rate, settings.scene_threshold)
        self.rule = AlertRule(spec.name, settings.k, settings.w)

    def _event(self, kind: str, **detail) -> None:
        self.emit(Event(kind, self.spec.name, time.time(), detail))

    def run(self) -> Counters:
        backoff = 0.5
        failures = 0
        in_session = False
        lost_at = time.monotonic()
        while not self.stop.is_set():
            try:
                container = self._open()
            except Exception as error:  # noqa: BLE001 - any FFmpeg or socket error: try again
                if self.spec.listen and isinstance(error, (TimeoutError, *_timeout_errors())):
                    continue  # nobody published within open_timeout: keep listening
                failures += 1
                if in_session and time.monotonic() - lost_at > self.settings.read_timeout:
                    # Gone for longer than a stall: many servers end a stream by closing the
                    # connection, which looks like a break. The session ends; a followed stream
                    # is still tried, and its return is a new session.
                    self._end_session("stream gone")
                    in_session = False
                    if not self.settings.follow:
                        break
                if not self._retry(error, failures, backoff):
                    break
                backoff = min(backoff * 2, 10.0)
                continue
            if not in_session:
                in_session = True
                self.counters.sessions += 1
                self._event("session_started", url=self.spec.name)
            self.sampler.reset()
            if self.reveal is not None:
                self.reveal.clear()  # stream times restart with the connection
            try:
                ended, got_frames = self._stream(container)
            finally:
                container.close()
            if got_frames:
                backoff, failures = 0.5, 0
            if ended or (self.spec.listen and not self.stop.is_set()):
                # End of stream; for a listener a lost publisher also ends its session.
                self._end_session("end of stream" if ended else "publisher gone")
                in_session = False
                if not (self.settings.follow or self.spec.listen):
                    break
                continue
            if self.stop.is_set():
                break
            lost_at = time.monotonic()
            failures += 1
            if not self._retry("stalled or disconnected", failures, backoff):
                break
            backoff = min(backoff * 2, 10.0)
        if in_session:
            self._end_session("stopped")
        self._event("stopped", **self.counters.__dict__)
        return self.counters

    def _retry(self, error, failures: int, backoff: float) -> bool:
        limit = self.settings.max_reconnects
        if limit is not None and failures > limit:
            self._event("reconnecting", reason=_reason(error), gave_up=True)
            return False
        self.counters.reconnects += 1
        self._event("reconnecting", reason=_reason(error), delay=backoff)
        self.stop.wait(backoff)
        return True

    def _open(self):
        import av

        scheme = urlsplit(self.spec.url).scheme
        options = {}
        if self.spec.listen:
            # FFmpeg's own wait for a publisher, in slices of open_timeout so that ``stop`` is seen;
            # PyAV's open timeout would cut a publisher off in the middle of its handshake.
            wait = max(1, round(self.settings.open_timeout))
            options.update(
                {
                    "rtmp": {"listen": "1", "timeout": str(wait)},
                    "rtsp": {"rtsp_flags": "listen", "listen_timeout": str(wait)},
                    "tcp": {"listen": "1", "listen_timeout": str(wait * 1000)},
                }[scheme]
            )
        elif scheme == "rtsp":
            options["rtsp_transport"] = "tcp"
        # Start decoding after half a second of probing, not FFmpeg's default five.
        options.update({"analyzeduration": "500000", "probesize": "500000", "fflags": "nobuffer"})
        if scheme in ("http", "https"):
            options["live_start_index"] = "-1"  # a live playlist: start at the newest segment
        s = self.settings
        open_timeout = None if self.spec.listen else s.open_timeout
        container = av.open(self.spec.url, options=options, timeout=(open_timeout, s.read_timeout))
        if not container.streams.video:
            container.close()
            raise StreamError("the stream carries no video")
        return container

    def _stream(self, container) -> tuple[bool, bool]:
        """Decode until the end (True), a stall or error (False) or ``stop``; and whether any
        frame came."""
        import av

        stream = container.streams.video[0]
        stream.codec_context.thread_count = self.settings.decode_threads
        got_frames = False
        try:
            for packet in container.demux(stream):
                if self.stop.is_set():
                    return False, got_frames
                try:
                    frames = packet.decode()
                except av.FFmpegError:
                    self.counters.corrupt_packets += 1
                    continue
                for frame in frames:
                    got_frames = True
                    self._frame(frame)
        except (av.FFmpegError, OSError, TimeoutError) as error:
            log.info("stream %s interrupted: %s", self.spec.name, _reason(error))
            return False, got_frames
        return True, got_frames

    def _frame(self, frame) -> None:
        self.counters.frames += 1
        luma = luma_of(frame)
        seconds = float(frame.time) if frame.time is not None else time.monotonic()
        if not self.sampler.want(seconds, luma):
            return
        self.counters.sampled += 1
        hashed = hash_frame(luma, dihedral=self.settings.dihedral, limited_range=limited_range(frame))
        if hashed.low_quality:
            self.counters.low_quality += 1
        if self.reveal is not None:
            self.reveal.add(seconds, time.time(), luma)
        found = match(self.index.get(), hashed, self.settings.radius)
        if found:
            self.counters.matched += 1
        outcome = self.rule.feed(Sample(seconds, time.time(), found))
        if outcome is not None:
            kind, episode = outcome
            self._alert_event(kind, episode)

    def _alert_event(self, kind: str, episode) -> None:
        detail = {"alert": episode.as_dict()}
        if self.reveal is not None:
            detail["frames"] = self.reveal.take()  # sealed; only ever with an alert
        self._event(f"alert_{kind}", **detail)

    def _end_session(self, reason: str) -> None:
        episode = self.rule.close()
        if episode is not None:
            self._alert_event("closed", episode)
        if self.reveal is not None:
            self.reveal.clear()
        self._event("session_ended", reason=reason)


def _timeout_errors() -> tuple:
    import av

    return (av.ExitError,)


def _reason(error) -> str:
    """A short reason without the address (it may carry a stream key)."""
    if isinstance(error, str):
        return error
    return type(error).__name__
