"""vPDQ, Meta's video hash: the PDQ hash of every frame (or of N frames per second).

Frames are decoded with PyAV (which bundles FFmpeg) straight from a file object, so a video is
never written to disk. Output follows the reference text form, one line per hashed frame:
``frame_number,quality,pdq_hex,timestamp_seconds``, or the same fields as JSON.

Two videos match when enough of their good frames find a close frame in the other: the share of
each side's frames of quality >= 50 that lie within 31 bits of some frame of the other side, as
ThreatExchange's vPDQ matcher computes it, at least ``MATCH_PERCENT`` on both sides. Requiring both
keeps a short clip from matching a longer video it was cut from, and the reverse.

A value is a whole frame list, far longer than an index key, so the index holds frames and only
proposes candidates, which ``VpdqSignal.verify`` confirms against the stored frames:

- a stored video puts in the index only its distinct good frames that are not within ``THIN_BITS``
  of one it already put there (``index_keys``): a still scene gives thousands of near-identical
  frames, and every lookup near them would return all of them; thinned, it gives a few;
- a query looks up only its most frequent distinct good frames that stand for just over
  ``100 - MATCH_PERCENT`` percent of its good frames (``probes``): a matching video has frames
  close to at least ``MATCH_PERCENT`` percent of them, so to at least one of these;
- the lookup radius is 31 + ``THIN_BITS`` (``CANDIDATE_RADIUS``): a frame within 31 bits of a frame
  left out of the index is within that radius of the frame that covered it. Nothing is missed.
"""

import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import av
import numpy as np

from openmnr.core import media
from openmnr.core.index import PDQIndex
from openmnr.core.signals import pdq
from openmnr.core.signals.base import (
    LIMITS,
    Comparison,
    ContentType,
    Found,
    HashValue,
    InvalidSignalValue,
    Limits,
    SignalType,
)

QUALITY_THRESHOLD = 50
FRAME_MATCH_THRESHOLD = 31
# Percentage of good frames that must match on both sides for two videos to match.
MATCH_PERCENT = 80
ISOLATED_TIMEOUT = 600.0
#: Longest value accepted: about 10 hours of video at one hash per second, or 13 minutes of every
#: frame at 30 per second (a line is about 80 characters).
MAX_TEXT = 3_000_000
#: A stored video's frames within this many bits of one it already put in the index stay out of it,
#: and candidates are looked up within the frame threshold plus this (see the module docstring).
THIN_BITS = 8
CANDIDATE_RADIUS = FRAME_MATCH_THRESHOLD + THIN_BITS
#: Frames looked up per index call: near a still scene one lookup finds thousands of rows, so few at
#: a time keeps memory bounded (under 400 MiB for the process in the worst case measured: 18,000
#: frames against a stored video of 18,000 frames of a still scene).
FRAMES_PER_QUERY = 32


class Frame(NamedTuple):
    """One hashed frame, as in a line of the reference output."""

    number: int
    quality: int
    pdq: str
    timestamp: float


class VpdqSignal(SignalType):
    """The value is the reference text form: one ``frame,quality,hex,timestamp`` line per frame.

    Its distance is 100 minus the smaller of the two matched percentages, so the default threshold
    (20) is ``MATCH_PERCENT`` on both sides."""

    name = "vpdq"
    label = "vPDQ (video)"
    description = (
        "A video's vPDQ: one frame_number,quality,pdq_hex,timestamp_seconds line per hashed frame, "
        "as hashing the video returns it."
    )
    content_types = (ContentType.VIDEO,)
    order = 40
    digits = None
    max_length = MAX_TEXT
    threshold = 100 - MATCH_PERCENT
    decodes = True
    isolated_timeout = ISOLATED_TIMEOUT
    key_bytes = 32

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        return _hash_value(data, limits)

    @classmethod
    def hash_file(cls, path: str | Path, *, limits: Limits = LIMITS) -> HashValue:
        """Streams the file: a video may be far larger than what is held in memory."""
        return _hash_value(Path(path), limits)

    @classmethod
    def validate(cls, value: str) -> str:
        """The canonical text; ``InvalidSignalValue`` naming the bad line (never its content)."""
        try:
            return to_text(from_text(value))
        except InvalidSignalValue as error:
            raise InvalidSignalValue(f"vpdq: {error}") from None

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        """Distance is 100 minus the smaller of the two matched percentages."""
        first, second = from_text(a), from_text(b)
        found = 100 - min(match_percent(first, second), match_percent(second, first))
        return Comparison(found <= (cls.threshold if threshold is None else threshold), found)

    @classmethod
    def json_value(cls, value: str) -> list[dict]:
        return to_json(from_text(value))

    @classmethod
    def index_keys(cls, value: str) -> list[str]:
        """The stored video's distinct good frames, thinned (see the module docstring)."""
        return _thinned(list(dict.fromkeys(f.pdq for f in good_frames(value))))

    @classmethod
    def probes(cls, value: str) -> list[str]:
        """The query's most frequent good frames that stand for enough of it (module docstring)."""
        good = Counter(f.pdq for f in good_frames(value))
        return _enough_frames(good) if good else []

    @classmethod
    def new_index(cls, keys: np.ndarray, ids: np.ndarray) -> PDQIndex:
        return PDQIndex.build(keys, ids)

    @classmethod
    def load_index(cls, path: str | Path) -> PDQIndex:
        return PDQIndex.load(path)

    @classmethod
    def search(
        cls, index: PDQIndex, probes: list[list[str]], threshold: int, extra: list[list[str]] | None = None
    ) -> list[list[Found]]:
        """Candidates for each query: the videos with a frame within ``CANDIDATE_RADIUS`` of one of
        its probes, a few frames at a time. Their distance is unknown until ``verify``. (A video
        has no extra probes: ``extra`` is looked up like the others.)"""
        if extra is not None:
            probes = [[*keys, *more] for keys, more in zip(probes, extra, strict=True)]
        results = []
        for keys in probes:
            candidates: dict[int, None] = {}
            for start in range(0, len(keys), FRAMES_PER_QUERY):
                for found in index.query_batch(keys[start : start + FRAMES_PER_QUERY], CANDIDATE_RADIUS):
                    candidates.update(dict.fromkeys(found.ids.tolist()))
            results.append([Found(video_id, 0) for video_id in candidates])
        return results

    @classmethod
    def verify(cls, query: str, stored: Iterable[tuple[int, str]], threshold: int) -> Iterator[Found]:
        """The stored videos that match ``query`` within ``threshold``, with both percentages.

        The query's frames are read once; a candidate whose first share is already too small
        skips the second."""
        good = Counter(f.pdq for f in good_frames(query))
        if not good:
            return
        needed = 100 - threshold
        for stored_id, text in stored:
            stored_good = Counter(f.pdq for f in good_frames(text))
            query_percent = share_within(good, stored_good)
            if query_percent < needed:
                continue
            stored_percent = share_within(stored_good, good)
            smaller = min(query_percent, stored_percent)
            if smaller >= needed:
                yield Found(stored_id, 100 - smaller, query_percent, stored_percent)


def _hash_value(source: bytes | Path, limits: Limits) -> HashValue:
    frames = hash_video(
        source,
        mode=limits.mode,
        per_second=limits.per_second,
        max_pixels=limits.max_pixels,
        isolate=limits.isolate,
    )
    return HashValue(to_text(frames))


def hash_video(
    source: bytes | str | os.PathLike | BinaryIO,
    *,
    mode: pdq.Mode = "fast",
    per_second: float | None = None,
    max_pixels: int = media.MAX_PIXELS,
    isolate: bool = False,
) -> list[Frame]:
    """Hash the frames of a video given as bytes, a path or a binary file object.

    ``per_second`` hashes about that many frames per second (as the reference's seconds-per-hash
    does); ``None`` hashes every frame. Fast mode hashes each frame's luma with the numpy PDQ;
    reference mode hands its RGB to the ``pdqhash`` package. With ``isolate`` the work runs in a
    child process with memory and time limits (``source`` must then be bytes or a path).
    """
    if mode not in pdq.MODES:
        raise ValueError(f"unknown PDQ mode {mode!r}; use one of {', '.join(pdq.MODES)}")
    if isolate:
        return media.run_isolated(
            _hash_video_plain, source, mode, per_second, max_pixels, timeout=ISOLATED_TIMEOUT
        )
    if isinstance(source, bytes | bytearray | memoryview):
        return _hash_video_plain(io.BytesIO(source), mode, per_second, max_pixels)
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            return _hash_video_plain(file, mode, per_second, max_pixels)
    return _hash_video_plain(source, mode, per_second, max_pixels)


def _hash_video_plain(
    file: BinaryIO | bytes | str | os.PathLike, mode: pdq.Mode, per_second: float | None, max_pixels: int
) -> list[Frame]:
    if not hasattr(file, "read"):  # bytes or a path, after crossing into an isolated child
        return hash_video(file, mode=mode, per_second=per_second, max_pixels=max_pixels)
    head = file.read(16)
    file.seek(0)
    demuxer = media.video_container(head)
    if demuxer is None:
        raise media.UnsupportedFormat("not a video in an accepted container (MP4/MOV, Matroska/WebM, AVI)")
    try:
        with av.open(file, mode="r", format=demuxer) as container:
            if not container.streams.video:
                raise media.UnsupportedFormat("the file has no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > max_pixels:
                raise media.TooLarge(
                    f"video frames are {width}x{height}, over the {max_pixels:,}-pixel limit"
                )
            rate = float(stream.average_rate or stream.guessed_rate or 0) or 30.0
            step = max(1, int(rate / per_second)) if per_second else 1
            frames = []
            decoded = 0
            for number, frame in enumerate(container.decode(stream)):
                decoded = number + 1
                if number % step:
                    continue
                if frame.width * frame.height > max_pixels:
                    raise media.TooLarge("a video frame is over the pixel limit")
                if mode == "reference":
                    value = pdq.hash_rgb(frame.to_ndarray(format="rgb24"))
                else:
                    value = pdq.hash_luma(frame.to_ndarray(format="gray"))
                frames.append(Frame(number, value.quality, value.value, number / rate))
            declared = stream.frames
    except av.FFmpegError as exc:
        raise media.CorruptMedia(f"the video could not be decoded ({exc})") from exc
    if not frames:
        raise media.CorruptMedia("the video has no decodable frames")
    # FFmpeg stops quietly at the end of a truncated file. Edit lists may legitimately drop a few
    # of the frames the header counts, hence the small allowance.
    if declared and decoded < declared - max(2, declared // 100):
        raise media.CorruptMedia(
            f"the video is truncated: {decoded} of the {declared} frames it declares decoded"
        )
    return frames


def to_text(frames: list[Frame]) -> str:
    """The reference text form, one ``frame,quality,hex,timestamp`` line per frame."""
    return "".join(f"{f.number},{f.quality},{f.pdq},{f.timestamp:.3f}\n" for f in frames)


def from_text(text: str) -> list[Frame]:
    """Parse the reference text form; raise ``InvalidSignalValue`` on any malformed line."""
    frames = []
    for line_number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            number, quality, hex_hash, timestamp = line.strip().split(",")
            frame = Frame(int(number), int(quality), pdq.PdqSignal.validate(hex_hash), float(timestamp))
        except (ValueError, InvalidSignalValue) as exc:
            raise InvalidSignalValue(f"line {line_number} is not frame,quality,pdq,timestamp") from exc
        if frame.number < 0 or not 0 <= frame.quality <= 100:
            raise InvalidSignalValue(f"line {line_number} has an impossible frame number or quality")
        frames.append(frame)
    if not frames:
        raise InvalidSignalValue("a vPDQ value has at least one frame")
    return frames


def to_json(frames: list[Frame]) -> list[dict]:
    """The frames as JSON-ready objects."""
    return [frame._asdict() for frame in frames]


def match_percent(query: list[Frame], target: list[Frame]) -> int:
    """Percentage of ``query``'s good frames within the frame threshold of some good frame of ``target``."""
    return share_within(_good_counts(query), _good_counts(target))


def share_within(frames: Counter, other: Iterable[str]) -> int:
    """Percentage, rounded down, of ``frames`` (PDQ hex -> how many frames have it) within the frame
    threshold of some hash of ``other``. A slice of frames at a time against all of ``other``, on
    64-bit words: bounded memory, seconds for two ten-minute videos."""
    total = frames.total()
    against = hash_words(list(other))
    if not total or not len(against):
        return 0
    hashes = list(frames)
    weights = np.array([frames[h] for h in hashes], np.int64)
    close = 0
    for start in range(0, len(hashes), 64):
        part = hash_words(hashes[start : start + 64])
        distances = np.bitwise_count(part[:, None, :] ^ against[None, :, :]).sum(axis=2, dtype=np.uint16)
        close += int(weights[start : start + 64][(distances <= FRAME_MATCH_THRESHOLD).any(axis=1)].sum())
    return close * 100 // total


def hash_words(hashes: list[str]) -> np.ndarray:
    """PDQ hex hashes as an (n, 4) uint64 array, for popcount distances."""
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), np.uint64).reshape(-1, 4)


def _good_counts(frames: list[Frame]) -> Counter:
    return Counter(f.pdq for f in frames if f.quality >= QUALITY_THRESHOLD)


def good_frames(text: str) -> list[Frame]:
    """The frames of a vPDQ text that count for matching (quality >= 50)."""
    return [f for f in from_text(text) if f.quality >= QUALITY_THRESHOLD]


def _enough_frames(frames: Counter) -> list[str]:
    """The fewest distinct hashes (most frequent first) that stand for more than 100 - MATCH_PERCENT
    percent of the frames: a video that matches has frames close to at least MATCH_PERCENT percent
    of them, so to at least one of these, and looking up only these finds every such video."""
    needed, chosen = frames.total() * (100 - MATCH_PERCENT) // 100 + 1, []
    for value, count in frames.most_common():
        chosen.append(value)
        needed -= count
        if needed <= 0:
            break
    return chosen


def _thinned(hashes: list[str]) -> list[str]:
    """In order, each hash not within THIN_BITS of one already kept. Nothing is missed: a frame
    within 31 bits of a dropped hash is within 31 + THIN_BITS of the hash that covered it, which
    is the radius candidates are looked up with."""
    if not hashes:
        return []
    words = hash_words(hashes)
    kept = np.empty((len(hashes), 4), np.uint64)
    count = 0
    chosen = []
    for position, row in enumerate(words):
        if count and (np.bitwise_count(kept[:count] ^ row).sum(axis=1) <= THIN_BITS).any():
            continue
        kept[count] = row
        count += 1
        chosen.append(hashes[position])
    return chosen
