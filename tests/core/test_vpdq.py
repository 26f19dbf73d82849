"""vPDQ: per-frame conformance with Meta's reference output, sampling, formats and matching."""

import io
import os

import pytest

from openmnr.core import media
from openmnr.core.signals import SIGNAL_TYPES, pdq, vpdq
from openmnr.core.signals.base import InvalidSignalValue

VIDEOS = ["doorknob-hd-no-bar", "test-padded-dimensions"]


@pytest.fixture(scope="module")
def fast_frames(shared) -> dict:
    """Each sample video hashed in fast mode, read from an in-memory file object."""
    frames = {}
    for name in VIDEOS:
        data = (shared / f"vectors/pdq/video/{name}.mp4").read_bytes()
        frames[name] = vpdq.hash_video(io.BytesIO(data))
    return frames


def reference(shared, name: str) -> list[vpdq.Frame]:
    return vpdq.from_text((shared / f"vectors/pdq/video/{name}.vpdq.txt").read_text())


def assert_conforms(found: list[vpdq.Frame], expected: list[vpdq.Frame]) -> None:
    assert [f.number for f in found] == [f.number for f in expected]
    for ours, theirs in zip(found, expected, strict=True):
        assert abs(ours.timestamp - theirs.timestamp) < 0.001
        if theirs.quality >= 50:
            assert pdq.distance(ours.pdq, theirs.pdq) <= 31, ours.number


@pytest.mark.slow
@pytest.mark.parametrize("name", VIDEOS)
def test_fast_mode_matches_the_reference_frame_by_frame(shared, fast_frames, name):
    assert_conforms(fast_frames[name], reference(shared, name))


@pytest.mark.slow
def test_reference_mode_matches_the_reference_frame_by_frame(shared):
    name = "test-padded-dimensions"
    with open(shared / f"vectors/pdq/video/{name}.mp4", "rb") as file:
        assert_conforms(vpdq.hash_video(file, mode="reference", per_second=5), reference(shared, name)[::6])


def test_sampling_n_frames_per_second(shared):
    frames = vpdq.hash_video(shared / "vectors/pdq/video/doorknob-hd-no-bar.mp4", per_second=1)
    assert [f.number for f in frames] == [0, 30, 60, 90]
    assert [round(f.timestamp, 3) for f in frames] == [0.0, 1.0, 2.0, 3.0]


def test_text_form_is_the_reference_form(shared, fast_frames):
    text = (shared / "vectors/pdq/video/doorknob-hd-no-bar.vpdq.txt").read_text()
    assert vpdq.to_text(vpdq.from_text(text)) == text
    ours = vpdq.to_text(fast_frames["doorknob-hd-no-bar"]).splitlines()
    assert len(ours) == 120
    assert all(len(line.split(",")) == 4 and line.endswith(("0", "3", "7")) for line in ours)


def test_json_form_carries_every_field(fast_frames):
    rows = vpdq.to_json(fast_frames["test-padded-dimensions"])
    assert len(rows) == 150
    assert set(rows[1]) == {"number", "quality", "pdq", "timestamp"}
    assert rows[1]["number"] == 1 and rows[1]["timestamp"] == pytest.approx(1 / 30)
    assert all(len(row["pdq"]) == 64 and 0 <= row["quality"] <= 100 for row in rows)


def test_a_video_matches_itself_and_not_another(fast_frames, shared):
    signal = SIGNAL_TYPES["vpdq"]
    door = vpdq.to_text(fast_frames["doorknob-hd-no-bar"])
    padded = vpdq.to_text(fast_frames["test-padded-dimensions"])
    assert signal.compare(door, vpdq.to_text(reference(shared, "doorknob-hd-no-bar"))).match
    assert signal.compare(door, door) == (True, 0)
    assert not signal.compare(door, padded).match


def test_signal_interface_hashes_video_bytes(shared):
    data = (shared / "vectors/pdq/video/test-padded-dimensions.mp4").read_bytes()
    value = SIGNAL_TYPES["vpdq"].hash_bytes(data)
    assert value.value == SIGNAL_TYPES["vpdq"].validate(value.value)
    assert len(value.value.splitlines()) == 150


@pytest.mark.parametrize(
    "text",
    ["", "0,100,abc,0.000", "0,100", "x,100," + "0" * 64 + ",0.0", "0,101," + "0" * 64 + ",0.0"],
)
def test_malformed_values_are_refused(text):
    with pytest.raises(InvalidSignalValue):
        vpdq.from_text(text)


def test_bad_videos_get_typed_errors(shared):
    data = (shared / "vectors/pdq/video/doorknob-hd-no-bar.mp4").read_bytes()
    with pytest.raises(media.CorruptMedia, match="truncated"):
        vpdq.hash_video(data[: len(data) // 2])
    with pytest.raises(media.CorruptMedia):
        vpdq.hash_video(data[:32] + os.urandom(4000))
    with pytest.raises(media.UnsupportedFormat):
        vpdq.hash_video(os.urandom(4000))
    with pytest.raises(media.UnsupportedFormat):
        vpdq.hash_video((shared / "vectors/pdq/images/misc/c.png").read_bytes())
    with pytest.raises(media.TooLarge, match="1080x1080"):
        vpdq.hash_video(shared / "vectors/pdq/video/test-padded-dimensions.mp4", max_pixels=1_000_000)


@pytest.mark.slow
def test_isolated_video_hashing(shared, fast_frames):
    path = shared / "vectors/pdq/video/test-padded-dimensions.mp4"
    assert vpdq.hash_video(path, isolate=True) == fast_frames["test-padded-dimensions"]


def test_video_md5_is_the_file_digest(shared):
    import hashlib

    path = shared / "vectors/pdq/video/doorknob-hd-no-bar.mp4"
    assert SIGNAL_TYPES["md5"].hash_file(path).value == hashlib.md5(path.read_bytes()).hexdigest()
