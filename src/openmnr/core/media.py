"""Safe decoding of untrusted images.

Everything that turns bytes from outside into pixels goes through here, so the rules live in one
place: a short allow-list of formats (JPEG, PNG, WebP, GIF first frame, BMP), a byte cap and a pixel
cap checked from the header before any pixel is decoded, truncated or corrupt files refused, the
EXIF orientation applied, and every Pillow mode turned into the same picture's RGB. Each refusal is
a subclass of ``MediaError`` with a message a user can act on.

For input that nobody vouches for, ``run_isolated`` runs a decode in another process with an
address-space limit (RLIMIT_AS) and a time limit, so a decoder bug or a decompression bomb costs a
decoder process, not the caller (``openmnr.core.decoders`` keeps a pool of them).
"""

import io
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 64_000_000
# Pillow format names we decode.
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP"})
# Cameras write JPEGs with a multi-picture extension: Pillow's JPEG opener reports them as MPO, and
# their first picture is an ordinary JPEG.
_OPENED_FORMATS = ALLOWED_FORMATS | {"MPO"}
ISOLATED_TIMEOUT = 30.0
ISOLATED_MEMORY = 1024 * 1024 * 1024

# Leading bytes of formats we recognise but refuse, so the error can name them.
_REFUSED_SIGNATURES = (
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"8BPS", "PSD"),
    (b"SIMPLE  =", "FITS"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML/SVG"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"icns", "ICNS"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\x76\x2f\x31\x01", "OpenEXR"),
)


class MediaError(Exception):
    """Content that cannot be decoded safely. Subclasses say why."""


class UnsupportedFormat(MediaError):
    """Not one of the accepted formats (or not a recognisable image at all)."""


class TooLarge(MediaError):
    """Over the byte cap, the pixel cap, or the memory allowed to an isolated decode."""


class CorruptMedia(MediaError):
    """Empty, truncated or malformed content, or a decoder that failed on it."""


class DecodeTimeout(MediaError):
    """An isolated decode did not finish within its time limit."""


Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO


def read_bytes(source: Source, max_bytes: int = MAX_BYTES) -> bytes:
    """Read content from bytes, a path or a binary file object, refusing more than ``max_bytes``."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise TooLarge(f"file is larger than the {_mib(max_bytes)} limit")
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"content is larger than the {_mib(max_bytes)} limit")
    return data


def sniff(head: bytes) -> str | None:
    """Name the kind of content from its first bytes: "photo", "video" or None if unknown.

    Only a quick look at magic numbers: a "photo" must still pass ``open_image``.
    """
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")):
        return "photo"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "photo"
    return "video" if video_container(head) else None


def video_container(head: bytes) -> str | None:
    """The FFmpeg demuxer for a video container recognised from its first bytes, else None."""
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska and WebM
        return "matroska"
    return None


def open_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Identify an image and check its header; nothing is decoded yet (Pillow opens lazily).

    Refuses formats outside the allow-list and pictures over ``max_pixels``.
    """
    if not data:
        raise CorruptMedia("the file is empty")
    try:
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
    except Image.DecompressionBombError as exc:
        raise TooLarge(f"image is over the {max_pixels:,}-pixel limit") from exc
    except Image.UnidentifiedImageError as exc:
        if sniff(data[:16]) == "photo":
            raise CorruptMedia("the image header is malformed") from exc
        raise UnsupportedFormat(unsupported_reason(data)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as exc:
        raise CorruptMedia(f"the image header is malformed ({_detail(exc)})") from exc
    if image.format not in _OPENED_FORMATS:
        raise UnsupportedFormat(f"{image.format} images are not accepted")
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptMedia("the image has no pixels")
    if width * height > max_pixels:
        raise TooLarge(f"image is {width}x{height}, over the {max_pixels:,}-pixel limit")
    return image


def load(image: Image.Image) -> Image.Image:
    """Decode the pixels of an opened image, mapping every decoder failure to ``CorruptMedia``.

    Truncated files are refused (Pillow's default, which we never relax).
    """
    try:
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            image.load()
    except Image.DecompressionBombError as exc:
        raise TooLarge("image is over the pixel limit") from exc
    except MemoryError as exc:
        raise TooLarge("not enough memory to decode the image") from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError) as exc:
        raise CorruptMedia(f"the image is truncated or corrupt ({_detail(exc)})") from exc
    return image


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8) of an opened image; 1 when absent or invalid."""
    try:
        value = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError, EOFError, TypeError, IndexError, KeyError):
        return 1  # unreadable EXIF does not make the picture unreadable
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# For each EXIF orientation: the Pillow transpose that makes the picture upright (as
# ImageOps.exif_transpose does) and whether the upright rows and columns run backwards
# through the stored image.
_UPRIGHT = {
    1: (None, (False, False)),
    2: (Image.Transpose.FLIP_LEFT_RIGHT, (False, True)),
    3: (Image.Transpose.ROTATE_180, (True, True)),
    4: (Image.Transpose.FLIP_TOP_BOTTOM, (True, False)),
    5: (Image.Transpose.TRANSPOSE, (False, False)),
    6: (Image.Transpose.ROTATE_270, (False, True)),
    7: (Image.Transpose.TRANSVERSE, (True, True)),
    8: (Image.Transpose.ROTATE_90, (True, False)),
}


def upright(image: Image.Image, exif_orientation: int) -> Image.Image:
    """Apply an EXIF orientation to decoded pixels."""
    method = _UPRIGHT[exif_orientation][0]
    return image if method is None else image.transpose(method)


def to_rgb(image: Image.Image) -> Image.Image:
    """The same picture in 8-bit RGB, whatever Pillow mode it arrived in.

    Alpha is dropped (as the PDQ reference does); CMYK JPEGs are read with Adobe's inverted
    polarity, which is what Pillow assumes and what Adobe's APP14 marker declares; 16-bit and float
    greys are scaled down rather than clipped.
    """
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        return _wide_grey_to_l(image).convert("RGB")
    if image.mode in ("La", "RGBa"):  # premultiplied alpha: undo it before dropping alpha
        image = image.convert("RGBA")
    try:
        return image.convert("RGB")
    except ValueError as exc:
        raise UnsupportedFormat(f"image mode {image.mode} is not supported") from exc


def _wide_grey_to_l(image: Image.Image) -> Image.Image:
    """Map a 16/32-bit integer or float grey image onto 0-255.

    Values already within 0-255 are kept (an 8-bit picture widened); larger ones are taken as a
    16-bit range, or the image's own maximum beyond that.
    """
    pixels = np.asarray(image, dtype=np.float32)
    peak = float(pixels.max(initial=0.0))
    if not math.isfinite(peak):
        pixels = np.nan_to_num(pixels, nan=0.0, posinf=0.0, neginf=0.0)
        peak = float(pixels.max(initial=0.0))
    if peak > 255:
        pixels = pixels * (255.0 / max(peak, 65535.0) if peak > 65535 else 255.0 / 65535.0)
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "L")


def decode_rgb(source: Source, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an image at full resolution into upright 8-bit RGB."""
    image = open_image(read_bytes(source, max_bytes), max_pixels)
    turn = orientation(image)
    return to_rgb(upright(load(image), turn))


@dataclass(frozen=True)
class Reduced:
    """A greyscale decode at reduced scale, for fast perceptual hashing.

    ``grey`` is upright. Each of its pixels stands for ``scale`` x ``scale`` pixels of the upright
    full picture of ``full_size`` (width, height). ``jpeg_scaled`` is True when libjpeg produced the
    reduction by keeping the lowest DCT frequencies of each 8x8 block, False when pixels were
    averaged. ``reversed_axes`` (rows, columns) says which upright axes run backwards through the
    stored image, which decides where the partial block at the edge falls.
    """

    grey: Image.Image
    scale: int
    jpeg_scaled: bool
    full_size: tuple[int, int]
    reversed_axes: tuple[bool, bool]


def decode_reduced(
    source: Source, min_side: int, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> Reduced:
    """Decode to greyscale, reduced as far as possible while both sides keep ``min_side`` pixels.

    JPEGs use libjpeg's DCT scaling (1/2, 1/4, 1/8) and are decoded straight to luma, which skips
    most of the decoding work; other formats are decoded in full and box-averaged.
    """
    image = open_image(read_bytes(source, max_bytes), max_pixels)
    turn = orientation(image)
    width, height = image.size
    jpeg_scaled = False
    if image.format in ("JPEG", "MPO"):
        before = image.size
        image.draft("L", (min_side, min_side))
        scale = max(1, math.ceil(before[0] / image.size[0]))
        jpeg_scaled = scale > 1
        grey = load(image) if image.mode == "L" else to_rgb(load(image)).convert("L")
    else:
        grey = to_rgb(load(image)).convert("L")
        scale = max(1, min(width, height) // min_side)
        if scale > 1:
            grey = grey.reduce(scale)
    if turn >= 5:  # orientations 5-8 turn the picture a quarter
        width, height = height, width
    return Reduced(upright(grey, turn), scale, jpeg_scaled, (width, height), _UPRIGHT[turn][1])


def decode_isolated(
    source: Source,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    timeout: float = ISOLATED_TIMEOUT,
    memory: int = ISOLATED_MEMORY,
) -> Image.Image:
    """``decode_rgb`` in a child process limited to ``memory`` extra bytes and ``timeout`` seconds."""
    data = read_bytes(source, max_bytes)
    size, pixels = run_isolated(_decode_raw, data, max_pixels, timeout=timeout, memory=memory)
    return Image.frombytes("RGB", size, pixels)


def _decode_raw(data: bytes, max_pixels: int) -> tuple[tuple[int, int], bytes]:
    image = decode_rgb(data, max_pixels=max_pixels)
    return image.size, image.tobytes()


def run_isolated(func, /, *args, timeout: float = ISOLATED_TIMEOUT, memory: int = ISOLATED_MEMORY):
    """Call ``func(*args)`` in another process and return its result.

    That process may grow its address space by at most ``memory`` bytes (RLIMIT_AS) and must
    answer within ``timeout`` seconds, else it is killed. ``MediaError`` raised there is raised
    here; running out of memory becomes ``TooLarge``, a crash ``CorruptMedia``, a hang
    ``DecodeTimeout``. The process is one of a pool of long-lived decoders (``openmnr.core.decoders``,
    which argues why that keeps every one of these limits), or a child started for this call alone
    when the pool is configured off. ``func`` and its arguments must be picklable (a module-level
    function).
    """
    from openmnr.core import decoders

    return decoders.run(func, *args, timeout=timeout, memory=memory)


def unsupported_reason(data: bytes) -> str:
    """Why content that is not an accepted image is refused, naming its format when known."""
    head = data[:32]
    for signature, name in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            return f"{name} files are not accepted; send JPEG, PNG, WebP, GIF or BMP"
    if video_container(head):
        return "this is a video, not an image"
    return "not an image in an accepted format (JPEG, PNG, WebP, GIF, BMP)"


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:200] if text else type(exc).__name__


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


__all__ = [
    "ALLOWED_FORMATS",
    "MAX_BYTES",
    "MAX_PIXELS",
    "CorruptMedia",
    "DecodeTimeout",
    "MediaError",
    "Reduced",
    "TooLarge",
    "UnsupportedFormat",
    "decode_isolated",
    "decode_reduced",
    "decode_rgb",
    "load",
    "open_image",
    "orientation",
    "read_bytes",
    "run_isolated",
    "sniff",
    "to_rgb",
    "unsupported_reason",
    "upright",
    "video_container",
]
