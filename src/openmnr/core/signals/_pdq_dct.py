"""PDQ's fast mode as a model: the reference's blur, sampling and DCT from a reduced luma plane.

The reference (``pdqhash``) blurs the full-resolution picture with two passes of a box filter,
samples the centres of 64x64 strips, and takes the 16x16 DCT of those samples. Fast mode decodes
the picture reduced (libjpeg's DCT scaling for JPEGs, box averaging for the rest) and applies the
same steps as two small precomputed linear maps per axis (`_axis_weights`), modelling each reduced
pixel as standing for its block of full-resolution pixels (`_block_model`). The maps depend only on
the sizes, so they are cached; the per-picture cost is two gathers and two small matrix products.
How close this stays to the reference is measured in docs/hashing.md. Kept apart from ``pdq.py``
(the signal type) because it is numerical machinery the signal type calls, not part of its
interface; the leading underscore keeps the registry from looking for a signal type here.
"""

import math
from functools import lru_cache

import numpy as np

from openmnr.core import media

# The reference gives pictures narrower than this an all-zero hash of quality 0.
MIN_SIDE = 5

# Rows 1-16 of the 64-point DCT-II (the DC row 0 is skipped), as in the reference.
_DCT = (
    math.sqrt(2 / 64) * np.cos(np.pi / 128 * np.arange(1, 17)[:, None] * (2 * np.arange(64)[None, :] + 1))
).astype(np.float32)


def _fast_dct(reduced: media.Reduced) -> tuple[np.ndarray, int]:
    grey = np.asarray(reduced.grey)
    return _dct_from_grey(grey, reduced.full_size, reduced.scale, reduced.jpeg_scaled, reduced.reversed_axes)


def _dct_from_grey(
    grey: np.ndarray,
    full_size: tuple[int, int],
    scale: int,
    jpeg_scaled: bool,
    reversed_axes: tuple[bool, bool],
) -> tuple[np.ndarray, int]:
    """The reference's 16x16 DCT output and quality, from a (possibly reduced) luma plane."""
    if too_small(full_size):
        return np.zeros((16, 16), np.float32), 0
    rows = _row_samples(grey, full_size[1], scale, jpeg_scaled, reversed_axes[0])
    return _dct_from_rows(rows, full_size[0], scale, jpeg_scaled, reversed_axes[1])


def too_small(full_size: tuple[int, int]) -> bool:
    """Whether the reference gives a picture of this (width, height) an all-zero hash."""
    return min(full_size) < MIN_SIDE


def _row_samples(
    grey: np.ndarray, full_height: int, scale: int, jpeg_scaled: bool, reverse: bool
) -> np.ndarray:
    """The first half of the sampling: the 64 blurred sample rows, each still as wide as ``grey``
    (for a picture not ``too_small``). This is most of the cost of a hash, and it does not
    depend on the columns' direction: the rows of ``grey[:, ::-1]`` are these rows reversed, value
    for value (each is a sum over the same pixels in the same order), which is how the dihedral
    variants share it (``pdq.dihedral_from_reduced``).

    Only the rows each sample needs are gathered, and converted to float32 after gathering (on
    8-bit input that is several times cheaper than converting the whole plane).
    """
    row_start, row_weights = _axis_weights(full_height, grey.shape[0], scale, jpeg_scaled, reverse)
    near = grey[_taps(row_start, row_weights, grey.shape[0])].astype(np.float32)
    return np.einsum("ik,ikw->iw", row_weights, near)


def _dct_from_rows(
    rows: np.ndarray, full_width: int, scale: int, jpeg_scaled: bool, reverse: bool
) -> tuple[np.ndarray, int]:
    """The second half: the 64x64 samples from the sample rows of ``_row_samples``, their DCT and
    quality."""
    col_start, col_weights = _axis_weights(full_width, rows.shape[1], scale, jpeg_scaled, reverse)
    samples = np.einsum("jk,ijk->ij", col_weights, rows[:, _taps(col_start, col_weights, rows.shape[1])])
    return _DCT @ samples @ _DCT.T, _quality(samples)


def _mirrored_dcts(reduced: media.Reduced) -> dict[tuple[bool, bool], tuple[np.ndarray, int]]:
    """The DCT and quality of the picture mirrored top-bottom and/or left-right, by (rows mirrored,
    columns mirrored): what sampling each mirrored picture anew gives, bit for bit, from two first
    passes (``_row_samples``) instead of four."""
    grey = np.asarray(reduced.grey)
    rows_reversed, cols_reversed = reduced.reversed_axes
    width, height = reduced.full_size
    if too_small(reduced.full_size):
        zero = np.zeros((16, 16), np.float32), 0
        return {(rows, cols): zero for rows in (False, True) for cols in (False, True)}
    dcts = {}
    for mirror_rows in (False, True):
        rows = _row_samples(
            grey[::-1] if mirror_rows else grey,
            height,
            reduced.scale,
            reduced.jpeg_scaled,
            rows_reversed != mirror_rows,
        )
        for mirror_cols in (False, True):
            dcts[mirror_rows, mirror_cols] = _dct_from_rows(
                rows[:, ::-1] if mirror_cols else rows,
                width,
                reduced.scale,
                reduced.jpeg_scaled,
                cols_reversed != mirror_cols,
            )
    return dcts


def _taps(start: np.ndarray, weights: np.ndarray, length: int) -> np.ndarray:
    return np.minimum(start[:, None] + np.arange(weights.shape[1]), length - 1)


@lru_cache(maxsize=1024)
def _axis_weights(
    n_full: int, n_reduced: int, scale: int, jpeg_scaled: bool, reverse: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Along one axis, how each of the 64 samples of the reference is made from reduced pixels.

    Returns ``start`` (64,) and ``weights`` (64, taps): sample i is
    ``sum(weights[i, t] * reduced[start[i] + t])``. The reference blurs the full-resolution axis
    with two passes of a box of ``window`` pixels (shorter at the edges) and samples the centres
    of 64 strips; each full-resolution pixel is modelled from the reduced pixel(s) of its block.
    """
    window = (n_full + 127) // 128
    half = (window + 2) // 2
    index = np.arange(n_full)
    low = np.maximum(index - (window - half), 0)
    high = np.minimum(index + half, n_full)
    inverse_count = 1.0 / (high - low)
    prefix = np.concatenate(([0.0], np.cumsum(inverse_count)))
    centre = ((np.arange(64) + 0.5) * n_full / 64).astype(np.int64)

    # Weight of full-resolution pixel j in sample i after both passes: the mean, over the first
    # pass's window around the centre, of the second pass's weights 1/count(k) where j is in k's box.
    reach = int((high[high[centre] - 1] - low[low[centre]]).max())
    full = low[low[centre]][:, None] + np.arange(reach)[None, :]
    inside = full < n_full
    full = np.minimum(full, n_full - 1)
    first = np.maximum(low[centre][:, None], full - half + 1)
    last = np.minimum(high[centre][:, None], full + window - half + 1)
    weight = np.where(
        inside & (last > first), (prefix[last] - prefix[first]) * inverse_count[centre][:, None], 0.0
    )

    # Which reduced pixels stand for each full-resolution pixel, counted in stored order.
    block = _block_model(scale, jpeg_scaled)
    block_full, block_reduced = block.shape
    stored = n_full - 1 - full if reverse else full
    reduced = (stored // block_full)[:, :, None] * block_reduced + np.arange(block_reduced)
    reduced = np.minimum(reduced, n_reduced - 1)  # a partial edge block repeats its last pixel
    if reverse:
        reduced = n_reduced - 1 - reduced
    contribution = weight[:, :, None] * block[stored % block_full]

    start = reduced.reshape(64, -1).min(axis=1)
    offset = reduced.reshape(64, -1) - start[:, None]
    taps = int(offset.max()) + 1
    slots = (np.arange(64)[:, None] * taps + offset).ravel()
    weights = np.bincount(slots, contribution.ravel(), minlength=64 * taps).reshape(64, taps)
    return start, weights.astype(np.float32)


@lru_cache(maxsize=8)
def _block_model(scale: int, jpeg_scaled: bool) -> np.ndarray:
    """(full pixels, reduced pixels) of one block: full-resolution pixels from reduced ones.

    Box averaging: ``scale`` pixels share one reduced pixel. libjpeg's scaled decode keeps the
    lowest 8/scale DCT frequencies of each 8-pixel block, so the block is modelled as the 8-point
    inverse DCT of the reduced pixels' own DCT.
    """
    if not jpeg_scaled:
        return np.ones((scale, 1))
    kept = 8 // scale
    return _orthonormal_dct(8).T[:, :kept] @ _orthonormal_dct(kept) * math.sqrt(scale)


def _orthonormal_dct(n: int) -> np.ndarray:
    matrix = math.sqrt(2 / n) * np.cos(
        np.pi / (2 * n) * np.arange(n)[:, None] * (2 * np.arange(n)[None, :] + 1)
    )
    matrix[0] /= math.sqrt(2)
    return matrix


def _quality(samples: np.ndarray) -> int:
    """The reference's quality: summed, truncated gradients of the 64x64 samples, scaled to 0-100."""
    down = np.trunc((samples[:-1, :] - samples[1:, :]) * np.float32(100) / np.float32(255))
    across = np.trunc((samples[:, :-1] - samples[:, 1:]) * np.float32(100) / np.float32(255))
    return min(100, int(np.abs(down).sum() + np.abs(across).sum()) // 90)
