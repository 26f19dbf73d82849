"""A query's local features include keypoints of its inner region (``features.INNER_POINTS``), so
a picture framed by another picture, whose keypoints crowd out the picture's among the 500
strongest of the whole, is still found; a bank entry's keypoints stay those of the whole picture."""

import io

import numpy as np
import pytest
from PIL import Image

from openmnr.core.robust import features, probes

#: (picture, the picture framing it, frame share): pairs the 500 strongest keypoints of the whole
#: miss (bench/robustness.py's "border ... frame" edit, the corpus's own pairing).
FRAMED = [("camera-00.jpg", "hubble_deep_field-08.jpg", 0.4), ("text-06.jpg", "coffee-02.jpg", 0.2)]


@pytest.fixture
def folder(shared):
    return shared / "corpus" / "natural"


def _framed(picture: Image.Image, frame: Image.Image, share: float) -> bytes:
    """``picture`` centred on ``frame`` stretched to (1 + share) times its size, as JPEG."""
    size = (round(picture.width * (1 + share)), round(picture.height * (1 + share)))
    canvas = frame.resize(size)
    canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=95)
    return out.getvalue()


def test_a_query_brings_keypoints_of_its_inner_region_and_an_entry_does_not(folder):
    assert features.inner_points(features.QUERY_POINTS) == features.INNER_POINTS
    assert features.inner_points(features.BANK_POINTS) == 0
    path = folder / "camera-00.jpg"
    whole = features.extract(path, features.QUERY_POINTS)
    query = features.extract(path, features.QUERY_POINTS, inner=features.INNER_POINTS)
    assert len(query) == len(whole) + features.INNER_POINTS
    assert np.array_equal(query.descriptors[: len(whole)], whole.descriptors)
    width, height = Image.open(path).size
    side = max(width, height)
    inner = query.points[len(whole) :]
    low = np.float32([features.INNER_MARGIN * width / side, features.INNER_MARGIN * height / side])
    high = np.float32([width / side, height / side]) - low
    assert (inner >= low - 0.01).all() and (inner <= high + 0.01).all()
    # As the banks hash an upload for matching (probes and keypoints from one call) and a picture
    # proposed to a bank (its BANK_POINTS strongest, no inner region).
    hashed = probes.hash_probed(path.read_bytes(), keypoints=features.QUERY_POINTS)
    assert len(features.Features.from_bytes(hashed.keypoints)) == len(query)
    kept = probes.hash_probed(path.read_bytes(), dihedral=False, trim=False, keypoints=features.BANK_POINTS)
    assert len(features.Features.from_bytes(kept.keypoints)) == features.BANK_POINTS


@pytest.mark.parametrize(("name", "frame", "share"), FRAMED)
def test_a_picture_framed_by_another_is_found_by_its_inner_region(folder, name, frame, share):
    picture, around = (Image.open(folder / n).convert("RGB") for n in (name, frame))
    bank = features.FeatureIndex()
    bank.add(0, features.extract(folder / name, features.BANK_POINTS))
    bank.add(1, features.extract(folder / "retina-00.jpg", features.BANK_POINTS))  # unrelated
    data = _framed(picture, around, share)
    whole = features.extract(data, features.QUERY_POINTS)
    query = features.extract(data, features.QUERY_POINTS, inner=features.INNER_POINTS)
    assert [entry for entry, _ in bank.query(whole)] == []  # the frame's keypoints crowd it out
    assert [entry for entry, _ in bank.query(query)] == [0]
