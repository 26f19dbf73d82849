"""An upload's keypoints come from the decode its hashes were made from (``features.extract_reduced``),
so it is decoded once, and they find the picture as well as keypoints of a full decode do."""

import io

import pytest
from PIL import Image

from openmnr.core import media
from openmnr.core.robust import features, probes

pytest.importorskip("cv2")


@pytest.fixture
def picture(shared) -> Image.Image:
    return Image.open(shared / "corpus" / "natural" / "camera-00.jpg").convert("RGB")


def _jpeg(image: Image.Image, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    image.resize(size).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize("factor", [1, 3, 6])
def test_an_uploads_keypoints_need_no_full_decode_and_find_its_bank_entry(monkeypatch, picture, factor):
    """At 3x and 6x the JPEG is reduced by libjpeg for the hashes; its keypoints are found in that
    plane (or a luma one decoded no further than needed), never in a full RGB decode, and they
    agree with the bank entry's keypoints of the original as much as ``features.extract``'s do."""
    bank = features.extract(_jpeg(picture, picture.size), features.BANK_POINTS)
    data = _jpeg(picture, (picture.width * factor, picture.height * factor))
    full = features.inliers(features.extract(data, features.QUERY_POINTS, inner=features.INNER_POINTS), bank)

    def no_full_decode(*args, **kwargs):
        raise AssertionError("the upload was decoded in full again")

    monkeypatch.setattr(media, "decode_rgb", no_full_decode)
    hashed = probes.hash_probed(data, keypoints=features.QUERY_POINTS)
    query = features.Features.from_bytes(hashed.keypoints)
    assert len(query) == features.QUERY_POINTS + features.INNER_POINTS
    found = features.inliers(query, bank)
    assert found >= 2 * features.MIN_INLIERS
    assert found >= 0.8 * full


def test_a_picture_reduced_below_the_keypoint_side_is_decoded_again_only_to_that_side(monkeypatch, picture):
    """A 6x JPEG is reduced below ``features.inner_side`` for the hashes; its keypoints come from a luma
    decode whose longer side is at least the inner region's ``inner_side``, not the full picture;
    a 1x one (not reduced) is used as it is."""
    seen = []
    original = features.extract_grey

    def spy(grey, count, *, inner=0):
        seen.append(max(grey.shape))
        return original(grey, count, inner=inner)

    monkeypatch.setattr(features, "extract_grey", spy)
    big = (picture.width * 6, picture.height * 6)
    data = _jpeg(picture, big)
    assert max(media.decode_reduced(data, 256).grey.size) < features.inner_side()
    probes.hash_probed(data, keypoints=features.QUERY_POINTS)
    probes.hash_probed(_jpeg(picture, picture.size), keypoints=features.QUERY_POINTS)
    assert features.inner_side() <= seen[0] < max(big) / 2
    assert seen[1] == max(picture.size)
