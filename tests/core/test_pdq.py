"""PDQ: reference conformance, fast-mode tolerances, colour modes, orientation and dihedral variants."""

import csv
import io
import statistics

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps

from openmnr.core import media
from openmnr.core.signals import SIGNAL_TYPES, pdq
from openmnr.core.signals.base import InvalidSignalValue

VECTOR = "vectors/pdq/images/bridge-mods/aaa-orig.jpg"


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def expected(shared) -> list[dict]:
    with open(shared / "vectors/pdq/expected.csv", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def all_images(shared, expected) -> list:
    return [shared / "vectors/pdq" / row["path"] for row in expected] + sorted(
        (shared / "corpus/natural").glob("*.jpg")
    )


@pytest.fixture(scope="module")
def reference_hashes(all_images) -> dict:
    return {path: pdq.hash_media(path, mode="reference") for path in all_images}


@pytest.fixture(scope="module")
def photo(shared) -> Image.Image:
    return Image.open(shared / VECTOR).convert("RGB")


@pytest.fixture(scope="module")
def small_photo(photo) -> Image.Image:
    """Half size, to keep the slow encoders (WebP, GIF, palettes) quick."""
    return photo.resize((800, 502), Image.Resampling.LANCZOS)


@pytest.mark.slow
def test_reference_mode_is_bit_identical_to_the_published_vectors(shared, expected, reference_hashes):
    for row in expected:
        value = reference_hashes[shared / "vectors/pdq" / row["path"]]
        assert (value.value, value.quality) == (row["pdq_reference"], int(row["quality"])), row["path"]


@pytest.mark.slow
def test_reference_mode_is_bit_identical_to_pdqhash_on_the_corpus(shared, reference_hashes):
    corpus = sorted((shared / "corpus/natural").glob("*.jpg"))
    assert len(corpus) == 204
    for path in corpus:
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        bits, quality = pdqhash.compute(rgb)
        expected_hex = "".join(str(int(bit)) for bit in bits)
        value = reference_hashes[path]
        assert f"{int(value.value, 16):0256b}" == expected_hex and value.quality == quality, path.name


@pytest.mark.slow
def test_fast_mode_stays_within_the_tolerances(all_images, reference_hashes):
    good = []
    for path in all_images:
        reference, fast = reference_hashes[path], pdq.hash_media(path, mode="fast")
        if reference.quality >= 80:
            good.append(pdq.distance(reference.value, fast.value))
            assert good[-1] <= 10, path.name
        if reference.quality >= 60:
            assert fast.quality >= 50, path.name
    assert len(good) > 150
    assert statistics.median(good) <= 4


def test_low_quality_is_marked_not_hidden(shared):
    flat = encode(Image.new("RGB", (300, 200), (120, 130, 140)), "PNG")
    for mode in pdq.MODES:
        value = pdq.hash_media(shared / "vectors/pdq/images/labelme-subset/q0003.jpg", mode=mode)
        assert value.low_quality and 0 < value.quality < 50 and len(value.value) == 64
        value = pdq.hash_media(flat, mode=mode)
        assert value.low_quality and value.quality == 0 and len(value.value) == 64
        assert not pdq.hash_media(shared / VECTOR, mode=mode).low_quality


def test_a_picture_too_small_to_hash_gets_quality_zero():
    tiny = encode(Image.new("RGB", (4, 40), "red"), "PNG")
    for mode in pdq.MODES:
        assert pdq.hash_media(tiny, mode=mode) == pdq.HashValue("0" * 64, 0, True)


def _built_in(photo: Image.Image, mode: str) -> Image.Image:
    if mode == "P":
        return photo.convert("P", palette=Image.Palette.ADAPTIVE)
    if mode == "I;16":
        return Image.fromarray(np.asarray(photo.convert("L")).astype(np.uint16) * 257)
    return photo.convert(mode)


@pytest.mark.parametrize(
    "mode", ["1", "L", "LA", "P", "PA", "RGBA", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16", "F", "RGBa"]
)
def test_every_pillow_mode_hashes_like_the_rgb_picture(small_photo, mode):
    reference = pdq.hash_rgb(np.asarray(small_photo))
    converted = media.to_rgb(_built_in(small_photo, mode))
    assert converted.mode == "RGB"
    assert pdq.distance(reference.value, pdq.hash_rgb(np.asarray(converted)).value) <= 10


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("cmyk.jpg", lambda im: encode(im.convert("CMYK"), "JPEG", quality=95)),
        ("grey.jpg", lambda im: encode(im.convert("L"), "JPEG", quality=95)),
        ("palette.png", lambda im: encode(im.convert("P", palette=Image.Palette.ADAPTIVE), "PNG")),
        ("1-bit.png", lambda im: encode(im.convert("1"), "PNG")),
        ("16-bit.png", lambda im: encode(_built_in(im, "I;16"), "PNG")),
        ("grey-alpha.png", lambda im: encode(im.convert("LA"), "PNG")),
        ("rgba.webp", lambda im: encode(im.convert("RGBA"), "WEBP", lossless=True, method=0)),
        ("palette.gif", lambda im: encode(im, "GIF")),
        ("bitmap.bmp", lambda im: encode(im, "BMP")),
    ],
)
def test_files_in_every_mode_hash_like_the_rgb_picture_in_both_modes(small_photo, name, build):
    reference = pdq.hash_rgb(np.asarray(small_photo))
    data = build(small_photo)
    for mode in pdq.MODES:
        assert pdq.distance(reference.value, pdq.hash_media(data, mode=mode).value) <= 10, mode


def test_a_cmyk_jpeg_is_not_inverted(photo):
    # ThreatExchange's PdqSignal gives the bitwise inverse here.
    data = encode(photo.convert("CMYK"), "JPEG", quality=95)
    reference = pdq.hash_rgb(np.asarray(photo)).value
    inverse = f"{int(reference, 16) ^ (2**256 - 1):064x}"
    value = pdq.hash_media(data, mode="reference").value
    assert pdq.distance(reference, value) <= 10 < pdq.distance(inverse, value)


# The stored picture that each EXIF orientation turns upright.
STORED_FOR = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", sorted(STORED_FOR))
def test_a_rotated_copy_with_its_orientation_tag_hashes_like_the_upright_picture(
    shared, photo, reference_hashes, orientation
):
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = photo.transpose(STORED_FOR[orientation])
    lossless = encode(stored, "PNG", exif=exif, compress_level=1)
    upright = reference_hashes[shared / VECTOR]
    assert pdq.hash_media(lossless, mode="reference") == upright
    jpeg = encode(stored, "JPEG", quality=95, exif=exif)
    assert pdq.distance(pdq.hash_media(jpeg, mode="fast").value, upright.value) <= 10


@pytest.fixture(scope="module")
def dihedral(shared) -> dict:
    return {mode: pdq.hash_dihedral(shared / VECTOR, mode=mode) for mode in pdq.MODES}


@pytest.mark.parametrize(
    ("transpose", "variant"),
    [
        (Image.Transpose.ROTATE_90, "rotate90"),
        (Image.Transpose.ROTATE_180, "rotate180"),
        (Image.Transpose.ROTATE_270, "rotate270"),
        (Image.Transpose.FLIP_LEFT_RIGHT, "flip_y"),
        (Image.Transpose.FLIP_TOP_BOTTOM, "flip_x"),
        (Image.Transpose.TRANSPOSE, "flip_plus1"),
        (Image.Transpose.TRANSVERSE, "flip_minus1"),
    ],
)
def test_a_rotated_or_flipped_picture_matches_its_dihedral_variant(dihedral, photo, transpose, variant):
    turned = encode(photo.transpose(transpose), "PNG", compress_level=1)
    for mode in pdq.MODES:
        variants = dihedral[mode]
        found = pdq.hash_media(turned, mode=mode).value
        assert pdq.distance(getattr(variants, variant), found) <= 10, mode
        others = [getattr(variants, name) for name in pdq.DihedralHashes._fields[:8] if name != variant]
        assert all(pdq.distance(other, found) > 31 for other in others), mode


def test_fast_and_reference_dihedral_agree(shared, dihedral, reference_hashes):
    fast, reference = dihedral["fast"], dihedral["reference"]
    assert reference.original == reference_hashes[shared / VECTOR].value
    for name in pdq.DihedralHashes._fields[:8]:
        assert pdq.distance(getattr(fast, name), getattr(reference, name)) <= 10, name


def test_isolated_hashing_gives_the_same_value(shared, reference_hashes):
    assert (
        pdq.hash_media(shared / VECTOR, mode="reference", isolate=True) == reference_hashes[shared / VECTOR]
    )


def test_validate_and_compare(shared):
    signal = SIGNAL_TYPES["pdq"]
    lines = (shared / "vectors/pdq/hashlists/haystack.txt").read_text().split()
    assert [signal.validate(line) for line in lines] == lines
    a, b = lines[0], lines[1]
    assert signal.validate(f"  {a.upper()}\n") == a
    for bad in ["", "xyz", a[:-1], a + "0", "g" * 64]:
        with pytest.raises(InvalidSignalValue):
            signal.validate(bad)
    assert signal.compare(a, a) == (True, 0)
    found = pdq.distance(a, b)
    assert signal.compare(a, b) == (found <= 31, found)
    assert signal.compare(a, b, threshold=found).match and not signal.compare(a, b, threshold=found - 1).match


def test_unknown_mode_is_refused(shared):
    with pytest.raises(ValueError, match="mode"):
        pdq.hash_media(shared / VECTOR, mode="approximate")
