"""The signal registry and ``hash_content``: one place declares each signal type, one function
decides which signals a piece of content gets, and a new type flows through without other changes."""

import argparse
import hashlib
import io
import json
import os

import pytest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal as TEPdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from openmnr.core import hashrun, lists, media, signals
from openmnr.core.signals import ContentType, Limits, pdq, vpdq
from toy_signal import ToySignal, registered_toy

JPEG = "vectors/pdq/images/bridge-mods/aaa-orig.jpg"
VIDEO = "vectors/pdq/video/test-padded-dimensions.mp4"
# The first bytes of ISO media files whose brand says picture (HEIC) or video (MP4).
HEIC_HEAD = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def test_the_registry_holds_each_signal_type_once_in_order():
    assert list(signals.SIGNAL_TYPES) == ["pdq", "md5", "sha256", "vpdq", "url"]
    assert [cls.name for cls in signals.for_content(ContentType.VIDEO)] == ["md5", "sha256", "vpdq"]
    assert [cls.name for cls in signals.for_content(ContentType.URL)] == ["url"]
    assert signals.get("pdq") is pdq.PdqSignal
    with pytest.raises(signals.UnknownSignalType) as refused:
        signals.get("photodna")
    assert "photodna" not in str(refused.value) and "pdq, md5" in str(refused.value)
    # One UnknownSignalType: hash lists raise the registry's own.
    assert lists.UnknownSignalType is signals.UnknownSignalType
    assert issubclass(signals.UnknownSignalType, ValueError)


def test_declarations_agree_with_threatexchange():
    """The names ThreatExchange gives our types in its local files, and PDQ's distance, are its own."""
    assert signals.get("md5").local_name == VideoMD5Signal.get_name()
    assert signals.get("sha256").local_name == VideoSHA256Signal.get_name()
    assert signals.get("pdq").local_name == TEPdqSignal.get_name()
    assert signals.get("pdq").threshold == 31 and signals.get("pdq").quality_threshold == 50
    assert signals.get("url").local_name is None and signals.get("vpdq").local_name is None


def test_a_second_type_of_the_same_name_is_refused():
    class Impostor(ToySignal):
        name = "pdq"

    with pytest.raises(ValueError, match="already registered"):
        signals.register(Impostor)
    assert signals.get("pdq") is pdq.PdqSignal


def test_one_sniff_tells_pictures_from_videos(shared):
    assert signals.sniff((shared / JPEG).read_bytes()[:32]) is ContentType.PHOTO
    assert signals.sniff((shared / VIDEO).read_bytes()[:32]) is ContentType.VIDEO
    assert signals.sniff(MP4_HEAD) is ContentType.VIDEO
    assert signals.sniff(HEIC_HEAD) is ContentType.PHOTO  # MP4's container, but a picture
    assert signals.sniff(b"%PDF-1.7") is None


def test_a_picture_gets_pdq_with_its_quality_and_both_digests(shared):
    data = (shared / JPEG).read_bytes()
    hashes = signals.hash_content(data)
    assert hashes.content_type is ContentType.PHOTO and hashes.error is None
    assert list(hashes) == ["pdq", "md5", "sha256"]
    assert hashes["pdq"] == pdq.hash_media(data)
    assert hashes["pdq"].quality == 100 and not hashes["pdq"].low_quality
    assert hashes["md5"].value == hashlib.md5(data).hexdigest()
    assert hashes["sha256"].value == hashlib.sha256(data).hexdigest()
    assert signals.hash_content(data, limits=Limits(isolate=True)) == hashes
    assert signals.hash_content(data, limits=Limits(mode="reference"))["pdq"] == pdq.hash_media(
        data, mode="reference"
    )
    assert "pdq" in repr(hashes) and hashes["pdq"].value not in repr(hashes)


def test_a_video_gets_vpdq_and_both_digests_from_memory_or_streamed(shared):
    path = shared / VIDEO
    data = path.read_bytes()
    hashes = signals.hash_content(data)
    assert hashes.content_type is ContentType.VIDEO and list(hashes) == ["md5", "sha256", "vpdq"]
    assert hashes["vpdq"].value == vpdq.to_text(vpdq.hash_video(path))
    assert hashes["sha256"].value == hashlib.sha256(data).hexdigest()
    # A file above the byte cap is streamed by each signal type, with the same result.
    streamed = signals.hash_path(path, limits=Limits(max_bytes=len(data) - 1, isolate=True))
    assert dict(streamed) == dict(hashes)
    sampled = signals.hash_content(data, limits=Limits(per_second=2))
    assert len(sampled["vpdq"].value.splitlines()) < len(hashes["vpdq"].value.splitlines())


def test_only_restricts_and_unknown_names_are_refused(shared):
    data = (shared / JPEG).read_bytes()
    assert list(signals.hash_content(data, only=["sha256", "vpdq"])) == ["sha256"]
    with pytest.raises(signals.UnknownSignalType):
        signals.hash_content(data, only=["sha1"])


def test_content_that_cannot_be_decoded_keeps_its_digests(shared):
    truncated = (shared / JPEG).read_bytes()[:2000]
    hashes = signals.hash_content(truncated)
    assert list(hashes) == ["md5", "sha256"] and isinstance(hashes.error, media.CorruptMedia)
    with pytest.raises(media.CorruptMedia):
        hashes.raise_for_error()
    isolated = signals.hash_content(truncated, limits=Limits(isolate=True))
    assert dict(isolated) == dict(hashes) and isinstance(isolated.error, media.CorruptMedia)

    heic = signals.hash_content(HEIC_HEAD + os.urandom(500))
    assert heic.content_type is ContentType.PHOTO and "pdq" not in heic and heic.error is not None
    assert "vpdq" not in heic  # never taken for a video


def test_refusals_are_typed(shared):
    with pytest.raises(media.CorruptMedia, match="empty"):
        signals.hash_content(b"")
    with pytest.raises(media.UnsupportedFormat, match="TIFF"):
        signals.hash_content(b"II*\x00" + bytes(100))
    with pytest.raises(media.TooLarge):
        signals.hash_content((shared / JPEG).read_bytes(), limits=Limits(max_bytes=1000))


def test_a_url_is_hashed_when_the_caller_says_it_is_one():
    hashes = signals.hash_content(b"HTTPS://Example.com/x?utm_source=a", content_type=ContentType.URL)
    assert list(hashes) == ["url"]
    assert (
        hashes["url"].value == signals.hash_content(b"https://example.com/x", content_type="url")["url"].value
    )


def test_every_type_validates_what_it_hashes_and_compares_it_with_itself(shared):
    hashes = {
        **signals.hash_content((shared / JPEG).read_bytes()),
        **signals.hash_content((shared / VIDEO).read_bytes()),
        **signals.hash_content(b"https://example.com/", content_type=ContentType.URL),
    }
    assert sorted(hashes) == sorted(signals.SIGNAL_TYPES)
    for name, hashed in hashes.items():
        signal = signals.get(name)
        assert signal.validate(hashed.value) == hashed.value, name
        assert signal.compare(hashed.value, hashed.value) == (True, 0), name
        identity = signal.identity(hashed.value)
        assert len(identity) == (signal.digits or 64), name


# --- a toy signal type, registered in these tests only -------------------------------------------


@pytest.fixture
def toy():
    with registered_toy() as cls:
        yield cls


def test_a_new_signal_type_is_hashed_with_the_others(toy, shared):
    data = (shared / JPEG).read_bytes()
    hashes = signals.hash_content(data)
    assert list(hashes) == ["pdq", "md5", "sha256", "toy_blake2"]
    assert hashes["toy_blake2"].value == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert "toy_blake2" in signals.hash_content((shared / VIDEO).read_bytes())


def test_a_new_signal_type_goes_through_every_list_format(toy):
    value = hashlib.blake2b(b"x", digest_size=16).hexdigest()
    records = [lists.HashRecord("toy_blake2", value.upper(), classification="baseline")]
    assert records[0].value == value  # normalised by the type's own validate
    for fmt in ("local", "csv", "json"):
        out = io.StringIO(newline="")
        assert lists.WRITERS[fmt](records, out) == 1
        back = list(lists.READERS[fmt](io.StringIO(out.getvalue(), newline="")))
        assert [(r.signal_type, r.value) for r in back] == [("toy_blake2", value)], fmt
    assert f"toy_blake2 {value}" in _written("local", records)
    with pytest.raises(lists.InvalidValue, match="line 1: a toy BLAKE2 digest"):
        list(lists.read_local(io.StringIO("toy_blake2 abc\n")))


def test_a_new_signal_type_appears_in_openmnr_hash(toy, shared, tmp_path, capsys):
    (tmp_path / "a.jpg").write_bytes((shared / JPEG).read_bytes())
    parser = argparse.ArgumentParser()
    hashrun.add_arguments(parser)
    assert hashrun.run(parser.parse_args([str(tmp_path), "--jobs", "1"])) == 0
    [record] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["toy_blake2"] == hashlib.blake2b((shared / JPEG).read_bytes(), digest_size=16).hexdigest()
    assert hashrun.run(parser.parse_args([str(tmp_path), "--jobs", "1", "--signals", "toy_blake2"])) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"path", "content_type", "toy_blake2"}


def test_a_registered_type_is_gone_once_unregistered(toy):
    signals.unregister(toy.name)
    with pytest.raises(signals.UnknownSignalType):
        lists.HashRecord("toy_blake2", "0" * 32)
    signals.register(toy)  # for the fixture to remove


def _written(fmt, records) -> str:
    out = io.StringIO(newline="")
    lists.WRITERS[fmt](records, out)
    return out.getvalue()
