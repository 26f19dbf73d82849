"""Hashing for matching: a picture's PDQ carries its query probes, and the signal type searches
and compares with them (the path every caller of the banks' matcher takes)."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from openmnr.core import signals
from openmnr.core.index import PDQIndex
from openmnr.core.signals import pdq


@pytest.fixture
def picture(shared):
    return (shared / "corpus" / "natural" / "coffee-02.jpg").read_bytes()


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _index(*values: str) -> PDQIndex:
    keys = np.frombuffer(b"".join(bytes.fromhex(v) for v in values), np.uint8).reshape(-1, 32)
    return PDQIndex.build(keys, np.arange(len(values), dtype=np.int64))


@pytest.mark.parametrize("mode", ["fast", "reference"])
def test_the_value_is_the_plain_hash_and_the_probes_come_with_it(picture, mode):
    plain = pdq.hash_media(picture, mode=mode)
    probed = signals.hash_content(picture, limits=signals.Limits(mode=mode, dihedral=True, trim=True))["pdq"]
    assert (probed.value, probed.quality) == (plain.value, plain.quality)
    assert probed.value not in probed.probes and len(set(probed.probes)) == len(probed.probes) >= 7
    only_trim = signals.hash_content(picture, limits=signals.Limits(trim=True))["pdq"]
    assert not only_trim.probes  # no border: no trim probe either
    assert not signals.hash_content(picture)["pdq"].probes  # hashing to store: nothing more


def test_isolated_hashing_returns_the_same_probes(picture):
    inside = signals.hash_content(picture, limits=signals.Limits(dihedral=True, trim=True))["pdq"]
    isolated = signals.hash_content(picture, limits=signals.Limits(isolate=True, dihedral=True, trim=True))
    assert isolated["pdq"] == inside


def test_search_and_compare_find_a_turned_and_a_bordered_copy(picture):
    image = Image.open(io.BytesIO(picture))
    stored = pdq.hash_media(picture).value
    unrelated = "f" * 64
    index = _index(unrelated, stored)
    limits = signals.Limits(dihedral=True, trim=True)
    turned = signals.hash_content(_jpeg(image.transpose(Image.Transpose.ROTATE_270)), limits=limits)["pdq"]
    w, h = image.size
    framed = _jpeg(ImageOps.expand(image, (w // 5, h // 5, w // 5, h // 5), fill="white"))
    bordered = signals.hash_content(framed, limits=limits)["pdq"]
    assert bordered.extra_probes  # the trimmed picture
    for query in (turned, bordered):
        assert pdq.distance(query.value, stored) > 31
        extra = [list(query.extra_probes)]
        [found] = pdq.PdqSignal.search(index, [[query.value, *query.probes]], 31, extra)
        assert [f.id for f in found] == [1]
        comparison = pdq.PdqSignal.compare_query(query, stored)
        assert comparison.match and comparison.distance == found[0].distance
        assert not pdq.PdqSignal.compare(query.value, stored).match
    # The extra probes are searched at the lowered radius, not the threshold.
    assert pdq.extra_radius(len(bordered.extra_probes), 31) <= 31
    assert pdq.extra_radius(8, 31) == 29
