"""A byte-identical copy of a file hashed before takes the earlier result instead of a decode
(``industry.files.PerceptualMemo``), and gets exactly what a decode would give it."""

import hashlib

import pytest

from openmnr.core import media
from openmnr.industry import files


def _spooled(tmp_path, data: bytes, name: str) -> files.SpooledFile:
    path = tmp_path / name
    path.write_bytes(data)
    return files.SpooledFile(
        path, name, len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), data[:64]
    )


@pytest.fixture
def decodes(monkeypatch):
    """Counts the decodes ``signals_of`` asks for."""
    calls = []
    real = files.signals.hash_content

    def counting(data, **kwargs):
        calls.append(hashlib.sha256(data).hexdigest())
        return real(data, **kwargs)

    monkeypatch.setattr(files.signals, "hash_content", counting)
    return calls


@pytest.fixture
def pictures(shared):
    folder = shared / "corpus" / "natural"
    return [(folder / name).read_bytes() for name in ("astronaut-01.jpg", "astronaut-00.jpg")]


def test_a_copy_is_not_decoded_again_and_gets_the_same_signals(tmp_path, decodes, pictures, settings):
    settings.MATCH_DIHEDRAL = True
    first = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    copy = files.signals_of(_spooled(tmp_path, pictures[0], "copy-of-a.jpg"))
    other = files.signals_of(_spooled(tmp_path, pictures[1], "b.jpg"))
    assert len(decodes) == 2  # the copy took the first one's result
    assert first.pdq and first.pdq_probes["probes"]
    assert (copy.pdq, copy.pdq_quality, copy.pdq_probes, copy.pdq_keypoints) == (
        first.pdq,
        first.pdq_quality,
        first.pdq_probes,
        first.pdq_keypoints,
    )
    assert copy.pdq_probes is not first.pdq_probes  # each file its own lists
    assert other.pdq != first.pdq


def test_one_more_byte_is_another_file(tmp_path, decodes, pictures):
    first = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    trailing = files.signals_of(_spooled(tmp_path, pictures[0] + b"\0", "a-and-a-byte.jpg"))
    assert len(decodes) == 2
    assert trailing.pdq == first.pdq  # the same picture, decoded afresh


def test_a_changed_setting_decodes_again(tmp_path, decodes, pictures, settings):
    settings.MATCH_DIHEDRAL = True
    with_probes = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    settings.MATCH_DIHEDRAL, settings.MATCH_TRIM = False, False
    without = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    assert len(decodes) == 2
    assert with_probes.pdq_probes and not without.pdq_probes


def test_a_failed_decode_is_not_remembered(tmp_path, monkeypatch, pictures):
    real, failures = files.signals.hash_content, []

    def failing_once(data, **kwargs):
        if not failures:
            failures.append(1)
            raise media.DecodeTimeout("the decoder ran out of time")
        return real(data, **kwargs)

    monkeypatch.setattr(files.signals, "hash_content", failing_once)
    failed = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    again = files.signals_of(_spooled(tmp_path, pictures[0], "a.jpg"))
    assert failed.error and not failed.pdq
    assert again.pdq and not again.error


def test_the_memo_keeps_only_the_most_recently_used():
    memo = files.PerceptualMemo(size=2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # a is now the most recent
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
