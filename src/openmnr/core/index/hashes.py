"""Turning hash values and ids given by callers into the fixed-width arrays the indices store.

A value may be a hex string (either case), raw bytes, or already a uint8 numpy array; a list may mix
strings and bytes. Hex is decoded in one ``bytes.fromhex`` call for speed; only when that fails is
the list walked to report which position is bad.
"""

import re
from collections.abc import Iterable

import numpy as np

from openmnr.core.index.errors import IndexInputError

Values = str | bytes | np.ndarray | Iterable[str | bytes]


def to_array(values: Values, size: int) -> np.ndarray:
    """An (n, size) uint8 array of the ``size``-byte values given (one value or several)."""
    if isinstance(values, np.ndarray):
        if values.dtype != np.uint8 or values.ndim not in (1, 2) or values.shape[-1] != size:
            raise IndexInputError(f"expected a uint8 array of shape ({size},) or (n, {size})")
        return np.ascontiguousarray(values.reshape(-1, size))
    if isinstance(values, str | bytes):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        raise IndexInputError("expected hex strings, bytes or a uint8 array") from None
    if all(isinstance(v, str) and len(v) == 2 * size for v in values):
        try:
            raw = bytes.fromhex("".join(values))
        except ValueError:
            raw = b""
        # fromhex skips whitespace, so a value with a space in it shows up as a short result.
        if len(raw) == size * len(values):
            return np.frombuffer(raw, np.uint8).reshape(-1, size).copy()
    raw = b"".join(_one(value, size, position) for position, value in enumerate(values))
    return np.frombuffer(raw, np.uint8).reshape(-1, size).copy()


def _one(value: str | bytes, size: int, position: int) -> bytes:
    if isinstance(value, bytes) and len(value) == size:
        return value
    if isinstance(value, str) and re.fullmatch(rf"[0-9a-fA-F]{{{2 * size}}}", value):
        return bytes.fromhex(value)
    raise IndexInputError(f"value {position} is not {2 * size} hexadecimal digits or {size} bytes")


def to_ids(ids: Iterable[int] | np.ndarray, count: int | None = None) -> np.ndarray:
    """The ids as an int64 array, checked to number ``count`` when given."""
    try:
        array = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
    except (TypeError, ValueError, OverflowError) as error:
        raise IndexInputError("ids must be integers") from error
    if len(array) == 0:
        array = array.astype(np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise IndexInputError("ids must be a flat list of integers")
    if count is not None and len(array) != count:
        raise IndexInputError(f"got {len(array)} ids for {count} values")
    if array.dtype == np.uint64 and len(array) and array.max() > np.iinfo(np.int64).max:
        raise IndexInputError("ids must fit in a signed 64-bit integer")
    return array.astype(np.int64)
