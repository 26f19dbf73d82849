"""PDQ, Meta's perceptual photo hash: 256 bits, compared by Hamming distance.

Two modes compute it:

- ``reference``: the full-resolution RGB pixels go to the ``pdqhash`` package (Meta's C++ code),
  so the value is bit-identical to the reference on the same pixels.
- ``fast`` (the default for bulk work): the image is decoded at reduced scale (libjpeg's DCT
  scaling for JPEGs, box averaging for the rest) straight to luma, and the reference steps -
  two passes of a box filter sized from the full-resolution image, sampling at 64x64, a 16x16 DCT,
  the median threshold and the gradient quality - are applied as small precomputed linear maps
  with numpy. Each reduced pixel is modelled as standing for its block of full-resolution pixels,
  so the result stays within a few bits of the reference (measured in docs/hashing.md).

A hash whose quality is below the threshold (default 50) is returned marked ``low_quality``:
it describes a nearly flat picture and matches too much to act on.
"""

import re
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pdqhash

from openmnr.core import media
from openmnr.core.index import PDQIndex
from openmnr.core.signals._pdq_dct import _dct_from_grey, _fast_dct, _mirrored_dcts
from openmnr.core.signals.base import (
    LIMITS,
    Comparison,
    ContentType,
    Found,
    HashValue,
    InvalidSignalValue,
    Limits,
    Mode,
    SignalType,
)

MODES: tuple[Mode, ...] = ("fast", "reference")
QUALITY_THRESHOLD = 50
# Meta's recommended distance for a confident PDQ match.
MATCH_THRESHOLD = 31
# Fast mode reduces the decode while both sides keep this many pixels; smaller costs accuracy.
FAST_MIN_SIDE = 256

_HEX = re.compile(r"[0-9a-f]{64}")


class DihedralHashes(NamedTuple):
    """The hashes of the eight rotations and flips of one picture, named as in the reference.

    In Pillow's terms, the picture transformed by ``Image.Transpose.X`` hashes like:
    ROTATE_90 -> rotate90, ROTATE_180 -> rotate180, ROTATE_270 -> rotate270 (counter-clockwise),
    FLIP_LEFT_RIGHT -> flip_y, FLIP_TOP_BOTTOM -> flip_x, TRANSPOSE -> flip_plus1,
    TRANSVERSE -> flip_minus1. The variants come from sign changes of the DCT, so they are close
    to, not identical with, the hash of the transformed picture (the reference samples
    off-centre), closer the larger the picture.
    """

    original: str
    rotate90: str
    rotate180: str
    rotate270: str
    flip_x: str
    flip_y: str
    flip_plus1: str
    flip_minus1: str
    quality: int


class PdqSignal(SignalType):
    """Values are 64 hex digits; two match within 31 bits; the index searches a Hamming radius."""

    name = "pdq"
    label = "PDQ"
    description = "PDQ hash, 64 hexadecimal digits."
    content_types = (ContentType.PHOTO,)
    order = 10
    digits = 64
    quality_threshold = QUALITY_THRESHOLD
    local_name = "pdq"
    threshold = MATCH_THRESHOLD
    decodes = True
    key_bytes = 32

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        if limits.wants_probes or limits.keypoints:
            from openmnr.core.robust.probes import hash_probed  # imports this module

            return hash_probed(
                data,
                mode=limits.mode,
                isolate=limits.isolate,
                max_bytes=limits.max_bytes,
                max_pixels=limits.max_pixels,
                dihedral=limits.dihedral,
                trim=limits.trim,
                keypoints=limits.keypoints,
            )
        return hash_media(
            data,
            mode=limits.mode,
            isolate=limits.isolate,
            max_bytes=limits.max_bytes,
            max_pixels=limits.max_pixels,
        )

    @classmethod
    def hash_file(cls, path: str | Path, *, limits: Limits = LIMITS) -> HashValue:
        return cls.hash_bytes(Path(path), limits=limits)

    @classmethod
    def validate(cls, value: str) -> str:
        normalised = value.strip().lower()
        if not _HEX.fullmatch(normalised):
            raise InvalidSignalValue("a PDQ hash is 64 hexadecimal digits")
        return normalised

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        found = distance(cls.validate(a), cls.validate(b))
        return Comparison(found <= (MATCH_THRESHOLD if threshold is None else threshold), found)

    @classmethod
    def new_index(cls, keys: np.ndarray, ids: np.ndarray) -> PDQIndex:
        return PDQIndex.build(keys, ids)

    @classmethod
    def load_index(cls, path: str | Path) -> PDQIndex:
        return PDQIndex.load(path)

    @classmethod
    def search(
        cls,
        index: PDQIndex,
        probes: list[list[str]],
        threshold: int,
        extra: list[list[str]] | None = None,
    ) -> list[list[Found]]:
        """Every stored hash within reach of one of a query's probes, each once at its smallest
        distance, nearest first.

        ``probes`` are searched at ``threshold``; each query's ``extra`` probes (a trimmed border)
        at ``extra_radius(len(extra), threshold)``, lowered so that together they add no more
        chance of a false match than the query's own hash has (``robust.probes.binomial_radius``).
        """
        best: list[dict[int, int]] = [{} for _ in probes]
        batches = [(probes, threshold)]
        if extra is not None:
            by_radius: dict[int, list[list[str]]] = {}
            for position, keys in enumerate(extra):
                if keys:
                    radius = extra_radius(len(keys), threshold)
                    by_radius.setdefault(radius, [[] for _ in probes])[position] = keys
            batches += [(keys, radius) for radius, keys in by_radius.items()]
        for queries, radius in batches:
            flat = [key for keys in queries for key in keys]
            answers = iter(index.query_batch(flat, radius) if flat else ())
            for position, keys in enumerate(queries):
                nearest = best[position]
                for _ in keys:
                    for entry_id, found in next(answers):
                        if found < nearest.get(entry_id, found + 1):
                            nearest[entry_id] = found
        return [
            [Found(entry_id, found) for entry_id, found in sorted(b.items(), key=lambda p: (p[1], p[0]))]
            for b in best
        ]

    @classmethod
    def compare_query(cls, query: HashValue, stored: str, threshold: int | None = None) -> Comparison:
        """``compare`` for a value hashed with probes: the nearest probe within its radius, else
        the plain comparison (distance of the value itself)."""
        threshold = MATCH_THRESHOLD if threshold is None else threshold
        stored = cls.validate(stored)
        near = min(distance(key, stored) for key in (query.value, *query.probes))
        if near <= threshold:
            return Comparison(True, near)
        if query.extra_probes:
            far = min(distance(key, stored) for key in query.extra_probes)
            if far <= extra_radius(len(query.extra_probes), threshold):
                return Comparison(True, far)
        return Comparison(False, distance(query.value, stored))


def distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes in hexadecimal."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hash_media(
    source: media.Source,
    *,
    mode: Mode = "fast",
    isolate: bool = False,
    max_bytes: int = media.MAX_BYTES,
    max_pixels: int = media.MAX_PIXELS,
    quality_threshold: int = QUALITY_THRESHOLD,
) -> HashValue:
    """PDQ of an image given as bytes, a path or a file object.

    With ``isolate`` the decoding and hashing run in a child process with memory and time limits
    (see ``media.run_isolated``): use it for input from outside.
    """
    if mode not in MODES:
        raise ValueError(f"unknown PDQ mode {mode!r}; use one of {', '.join(MODES)}")
    if isolate:
        hasher = partial(hash_media, mode=mode, max_pixels=max_pixels, quality_threshold=quality_threshold)
        return media.run_isolated(hasher, media.read_bytes(source, max_bytes))
    if mode == "reference":
        rgb = media.decode_rgb(source, max_bytes=max_bytes, max_pixels=max_pixels)
        return hash_rgb(np.asarray(rgb), quality_threshold)
    dct, quality = _fast_dct(
        media.decode_reduced(source, FAST_MIN_SIDE, max_bytes=max_bytes, max_pixels=max_pixels)
    )
    return _value(_bits_to_hex(_threshold(dct)), quality, quality_threshold)


def extra_radius(count: int, threshold: int = MATCH_THRESHOLD) -> int:
    """The radius ``count`` extra probes of one query are searched at (see ``PdqSignal.search``)."""
    from openmnr.core.robust.probes import binomial_radius  # imports this module

    return binomial_radius(count, threshold)


def hash_rgb(rgb: np.ndarray, quality_threshold: int = QUALITY_THRESHOLD) -> HashValue:
    """Reference PDQ of decoded pixels: an (height, width, 3) uint8 RGB array."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    return _value(np.packbits(np.asarray(bits, dtype=bool)).tobytes().hex(), quality, quality_threshold)


def hash_luma(luma: np.ndarray, quality_threshold: int = QUALITY_THRESHOLD) -> HashValue:
    """Fast PDQ of a full-resolution luma plane (height, width), values 0-255.

    For callers that already hold decoded pixels, such as video frames.
    """
    height, width = luma.shape
    dct, quality = _dct_from_grey(np.asarray(luma), (width, height), 1, False, (False, False))
    return _value(_bits_to_hex(_threshold(dct)), quality, quality_threshold)


def hash_dihedral(
    source: media.Source, *, mode: Mode = "fast", max_pixels: int = media.MAX_PIXELS
) -> DihedralHashes:
    """The eight rotation and flip variants of an image's PDQ hash, from one transform.

    A matcher that looks all eight up finds rotated or mirrored copies of listed pictures.
    """
    if mode == "reference":
        rgb = np.asarray(media.decode_rgb(source, max_pixels=max_pixels))
        hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
        return DihedralHashes(
            *(np.packbits(np.asarray(bits, dtype=bool)).tobytes().hex() for bits in hashes), int(quality)
        )
    if mode != "fast":
        raise ValueError(f"unknown PDQ mode {mode!r}; use one of {', '.join(MODES)}")
    dct, quality = _fast_dct(media.decode_reduced(source, FAST_MIN_SIDE, max_pixels=max_pixels))
    return DihedralHashes(*(_bits_to_hex(_threshold(variant)) for variant in _dihedral_dcts(dct)), quality)


def dihedral_from_luma(luma: np.ndarray) -> DihedralHashes:
    """The eight variants of a full-resolution luma plane (a decoded video frame), from one
    sampling pass: the upright hash as fast mode computes it, the others by the reference's sign
    changes of its DCT (``hash_dihedral``). One pass instead of the four of
    ``dihedral_from_reduced``: on a 1280x720 frame the sampling points are close enough to
    symmetric that the sign-change variants stay within a few bits of the turned frame's hash."""
    height, width = luma.shape
    dct, quality = _dct_from_grey(np.asarray(luma), (width, height), 1, False, (False, False))
    return DihedralHashes(*(_bits_to_hex(_threshold(variant)) for variant in _dihedral_dcts(dct)), quality)


#: How each dihedral variant's picture is made from the upright one, as steps applied in order:
#: "T" transposes, "R" reverses the rows (top-bottom), "C" the columns (left-right).
DIHEDRAL_STEPS = {
    "original": "",
    "rotate90": "TR",
    "rotate180": "RC",
    "rotate270": "TC",
    "flip_x": "R",
    "flip_y": "C",
    "flip_plus1": "T",
    "flip_minus1": "RCT",
}


def hash_dihedral_exact(
    source: media.Source, *, mode: Mode = "fast", max_pixels: int = media.MAX_PIXELS
) -> DihedralHashes:
    """The eight variants of ``hash_dihedral``, each hashed from the turned or mirrored picture itself.

    ``hash_dihedral`` derives the variants from one DCT by sign changes, which assumes the 64
    sampling points are symmetric about the centre; the reference places them at
    ``int((i + 0.5) * n / 64)``, which is not, so on a 300-pixel picture the derived variant can be
    16 bits from the hash of the turned picture (docs/hashing.md). Here the decoded pixels are
    turned and each variant is sampled anew, so a variant equals (reference mode) or is as close as
    fast mode is to (fast mode) the hash that the turned picture gets. Costs: fast mode one decode
    and four samplings sharing two first passes, reference mode eight reference hashes.
    """
    if mode == "reference":
        rgb = np.asarray(media.decode_rgb(source, max_pixels=max_pixels))
        values = [hash_rgb(_turn(rgb, steps)) for steps in DIHEDRAL_STEPS.values()]
        return DihedralHashes(*(value.value for value in values), values[0].quality)
    if mode != "fast":
        raise ValueError(f"unknown PDQ mode {mode!r}; use one of {', '.join(MODES)}")
    reduced = media.decode_reduced(source, FAST_MIN_SIDE, max_pixels=max_pixels)
    return DihedralHashes(*dihedral_from_reduced(reduced).exact, reduced_quality(reduced))


class TurnedHashes(NamedTuple):
    """The eight variants (in ``DihedralHashes`` order) two ways: hashed from the turned pixels
    (``exact``) and by the reference's sign changes of one DCT (``sign_changes``); ``quality`` is
    the upright picture's (``exact[0]`` is its plain fast-mode hash)."""

    exact: tuple[str, ...]
    sign_changes: tuple[str, ...]
    quality: int = 0


def hash_reduced(reduced: media.Reduced, quality_threshold: int = QUALITY_THRESHOLD) -> HashValue:
    """Fast-mode PDQ from a decode already made by ``media.decode_reduced``."""
    dct, quality = _fast_dct(reduced)
    return _value(_bits_to_hex(_threshold(dct)), quality, quality_threshold)


def reduced_quality(reduced: media.Reduced) -> int:
    return _fast_dct(reduced)[1]


def dihedral_from_reduced(reduced: media.Reduced) -> TurnedHashes:
    """Both kinds of dihedral variants of one fast-mode decode.

    Every variant is a mirroring of rows and/or columns, then perhaps a transpose; the samples (and
    so the DCT) of a transposed picture are the transposed samples, so four samplings suffice. And
    a sampling is two passes, down the rows and then across: the first pass, most of the cost, does
    not depend on the columns' direction, so two first passes serve the four (``_mirrored_dcts``). The result is the same, bit for bit, as sampling each mirrored picture anew (tested), for
    about the cost of 2.5 plain hashes instead of 4.
    """
    dcts = _mirrored_dcts(reduced)
    exact = []
    for steps in DIHEDRAL_STEPS.values():
        mirror_rows, mirror_cols, transposed = False, False, False
        for step in steps:
            if step == "T":
                transposed = not transposed
            elif (step == "R") != transposed:
                mirror_rows = not mirror_rows
            else:
                mirror_cols = not mirror_cols
        dct = dcts[mirror_rows, mirror_cols][0]
        exact.append(_bits_to_hex(_threshold(dct.T if transposed else dct)))
    upright, quality = dcts[False, False]
    signs = tuple(_bits_to_hex(_threshold(variant)) for variant in _dihedral_dcts(upright))
    return TurnedHashes(tuple(exact), signs, int(quality))


def _turn(pixels: np.ndarray, steps: str) -> np.ndarray:
    for step in steps:
        pixels = pixels.swapaxes(0, 1) if step == "T" else pixels[::-1] if step == "R" else pixels[:, ::-1]
    return np.ascontiguousarray(pixels)


def _value(hex_hash: str, quality: int, quality_threshold: int) -> HashValue:
    return HashValue(hex_hash, int(quality), int(quality) < quality_threshold)


def _threshold(dct: np.ndarray) -> np.ndarray:
    """Bit i*16+j is set when coefficient (i, j) exceeds the median (the 128th smallest)."""
    values = dct.ravel()
    return values > np.partition(values, 127)[127]


def _bits_to_hex(bits: np.ndarray) -> str:
    """Hexadecimal as the reference prints it: bit 255 first."""
    return np.packbits(bits[::-1]).tobytes().hex()


def _dihedral_dcts(dct: np.ndarray) -> tuple[np.ndarray, ...]:
    """The DCT of each rotation and flip, by the reference's sign changes and transposes.

    Row and column i hold frequency i+1: mirroring an axis negates its odd frequencies (even i).
    """
    odd = np.where(np.arange(16) % 2 == 1, 1.0, -1.0).astype(np.float32)
    rows, cols = odd[:, None], odd[None, :]
    return (
        dct,
        (dct * cols).T,
        dct * rows * cols,
        (dct * rows).T,
        dct * rows,
        dct * cols,
        dct.T,
        (dct * rows * cols).T,
    )
