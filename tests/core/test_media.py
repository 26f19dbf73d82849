"""Safe decoding: what reaches the pixels, and what is refused with which error."""

import io
import os
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from openmnr.core import media
from openmnr.core.signals import pdq, vpdq

VECTOR = "vectors/pdq/images/bridge-mods/aaa-orig.jpg"


@pytest.fixture(scope="module")
def photo(shared) -> Image.Image:
    return Image.open(shared / VECTOR).convert("RGB")


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header announces width x height pixels, with a token amount of data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\n%%EOF\n"


def test_every_allowed_format_decodes_to_the_same_rgb_picture(photo):
    small = photo.resize((160, 100))
    for image_format, options in [("PNG", {}), ("BMP", {}), ("WEBP", {"lossless": True})]:
        decoded = media.decode_rgb(encode(small, image_format, **options))
        assert decoded.mode == "RGB" and decoded.size == (160, 100)
        assert np.array_equal(np.asarray(decoded), np.asarray(small)), image_format
    jpeg = media.decode_rgb(encode(small, "JPEG", quality=95, subsampling=0))
    assert np.abs(np.asarray(jpeg, dtype=int) - np.asarray(small, dtype=int)).mean() < 3


def test_gif_gives_its_first_frame(photo):
    frames = [photo.resize((64, 40)), Image.new("RGB", (64, 40), "white")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    first = np.asarray(media.decode_rgb(data), dtype=int)
    assert first.std() > 20  # the photo, not the flat white second frame


def test_paths_and_file_objects_are_accepted(shared, photo):
    from_path = media.decode_rgb(shared / VECTOR)
    with open(shared / VECTOR, "rb") as file:
        from_file = media.decode_rgb(file)
    assert np.array_equal(np.asarray(from_path), np.asarray(from_file))
    assert np.array_equal(np.asarray(from_path), np.asarray(photo))


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", media.CorruptMedia, "empty"),
        (os.urandom(4096), media.UnsupportedFormat, "accepted format"),
        (EPS, media.UnsupportedFormat, "EPS"),
        (b"%PDF-1.4\n1 0 obj\n", media.UnsupportedFormat, "PDF"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", media.UnsupportedFormat, "SVG"),
        (b"8BPS\x00\x01" + bytes(40), media.UnsupportedFormat, "PSD"),
        (b"SIMPLE  =                    T" + bytes(2850), media.UnsupportedFormat, "FITS"),
        (png_claiming(50_000, 50_000), media.TooLarge, "limit"),
        (png_claiming(9_000, 9_000), media.TooLarge, "9000x9000"),
        (b"\xff\xd8\xff\xe0" + bytes(20), media.CorruptMedia, "malformed"),
    ],
    ids=["zero-byte", "random", "eps", "pdf", "svg", "psd", "fits", "png-50000", "png-81mp", "jpeg-header"],
)
def test_bad_input_gets_a_typed_error(data, error, words):
    with pytest.raises(error, match=words):
        media.decode_rgb(data)


def test_tiff_is_refused_by_name(photo):
    with pytest.raises(media.UnsupportedFormat, match="TIFF"):
        media.decode_rgb(encode(photo.resize((32, 20)), "TIFF"))


def test_truncated_jpeg_is_refused(shared):
    data = (shared / VECTOR).read_bytes()
    for keep in (len(data) // 2, 2000):
        with pytest.raises(media.CorruptMedia, match="truncated"):
            media.decode_rgb(data[:keep])
        with pytest.raises(media.CorruptMedia):
            media.decode_reduced(data[:keep], 256)


def test_byte_cap_is_checked_before_reading_everything(shared, tmp_path):
    data = (shared / VECTOR).read_bytes()
    with pytest.raises(media.TooLarge, match="MiB"):
        media.read_bytes(data, max_bytes=1000)
    with pytest.raises(media.TooLarge, match="MiB"):
        media.read_bytes(shared / VECTOR, max_bytes=1000)
    with pytest.raises(media.TooLarge):
        media.read_bytes(io.BytesIO(data), max_bytes=1000)


def test_pixel_cap_is_per_call_and_global_pillow_setting_is_untouched(shared):
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(media.TooLarge, match="1600x1004"):
        media.decode_rgb(shared / VECTOR, max_pixels=1_000_000)
    assert media.decode_rgb(shared / VECTOR).size == (1600, 1004)
    assert Image.MAX_IMAGE_PIXELS == before


def test_a_jpeg_with_an_html_trailer_decodes_as_the_picture(shared):
    clean = (shared / VECTOR).read_bytes()
    trailer = b"<html><script>alert('x')</script></html>"
    decoded = media.decode_rgb(clean + trailer)
    assert np.array_equal(np.asarray(decoded), np.asarray(media.decode_rgb(clean)))
    for mode in pdq.MODES:
        assert pdq.hash_media(clean + trailer, mode=mode) == pdq.hash_media(clean, mode=mode)


def test_exif_orientation_is_applied(photo):
    upright = photo.resize((401, 251))
    stored_for = {  # the stored picture that each orientation turns upright
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    for value, transpose in stored_for.items():
        exif = Image.Exif()
        exif[0x0112] = value
        data = encode(upright.transpose(transpose), "PNG", exif=exif)
        assert np.array_equal(np.asarray(media.decode_rgb(data)), np.asarray(upright)), value
        reduced = media.decode_reduced(data, 100)
        assert reduced.full_size == upright.size and reduced.grey.size[0] < upright.size[0], value


def test_isolated_decode_gives_the_same_pixels(shared):
    isolated = media.decode_isolated(shared / VECTOR)
    assert np.array_equal(np.asarray(isolated), np.asarray(media.decode_rgb(shared / VECTOR)))


def test_isolated_decode_bounds_memory():
    # 36 megapixels of grey compress to almost nothing but need ~150 MB to decode and convert.
    bomb = encode(Image.new("L", (6000, 6000)), "PNG")
    assert len(bomb) < 200_000
    with pytest.raises(media.TooLarge, match="memory"):
        media.decode_isolated(bomb, memory=48 * 1024 * 1024)


def test_isolated_errors_keep_their_type():
    with pytest.raises(media.UnsupportedFormat, match="EPS"):
        media.decode_isolated(EPS)
    with pytest.raises(media.TooLarge):
        media.decode_isolated(png_claiming(50_000, 50_000))


def test_isolated_decode_bounds_time_and_survives_a_crash():
    start = time.monotonic()
    with pytest.raises(media.DecodeTimeout):
        media.run_isolated(time.sleep, 30, timeout=0.5)
    assert time.monotonic() - start < 10
    with pytest.raises(media.CorruptMedia, match="crashed"):
        media.run_isolated(os.abort)


MAGIC = [
    b"",
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"BM",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x18ftypmp42",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(MAGIC), body=st.binary(max_size=2048))
def test_random_bytes_never_crash_any_decoder(prefix, body):
    data = prefix + body
    decoders = [
        media.decode_rgb,
        lambda d: media.decode_reduced(d, 256),
        lambda d: pdq.hash_media(d, mode="fast"),
        lambda d: pdq.hash_media(d, mode="reference"),
        lambda d: pdq.hash_dihedral(d),
        vpdq.hash_video,
    ]
    for decode in decoders:
        try:
            decode(data)
        except media.MediaError:
            pass
