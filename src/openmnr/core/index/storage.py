"""One-file storage for index arrays, read back as read-only memory maps.

Layout: the 8-byte magic ``OMNRIDX\\n``, the header length as an 8-byte little-endian integer, a
UTF-8 JSON header, then each array's raw bytes at a 64-byte-aligned offset from the start of the
data section (which itself starts 64-byte-aligned). The header holds the kind of index, the format
version, the index's own metadata and, per array, its dtype, shape and offset.

Loading maps the arrays instead of reading them, so it takes milliseconds at any size and several
processes that load the same file share one copy in the page cache. Files are written under a
temporary name, flushed to disk and renamed, so a reader never sees a half-written index.
"""

import json
import os
from pathlib import Path

import numpy as np

from openmnr.core.index.errors import IndexFileError

MAGIC = b"OMNRIDX\n"
VERSION = 2  # 2: exact segments keep their rows in id order (by_id)
_ALIGN = 64


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def save(path: str | os.PathLike, kind: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and ``meta`` (JSON-serialisable) to ``path`` atomically."""
    entries, offset = {}, 0
    for name, array in arrays.items():
        entries[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
        offset = _aligned(offset + array.nbytes)
    header = json.dumps({"kind": kind, "version": VERSION, "meta": meta, "arrays": entries}).encode()
    data_start = _aligned(len(MAGIC) + 8 + len(header))
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, array in arrays.items():
                f.seek(data_start + entries[name]["offset"])
                np.ascontiguousarray(array).tofile(f)
            f.truncate(data_start + offset)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load(path: str | os.PathLike, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Read the metadata of an index file of ``kind`` and map its arrays read-only."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            if f.read(len(MAGIC)) != MAGIC:
                raise IndexFileError(f"{path.name} is not an OpenMNR index file")
            length = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(min(length, size)))
        if header["kind"] != kind:
            raise IndexFileError(f"{path.name} holds a {header['kind']!r} index, not a {kind!r} one")
        if header["version"] != VERSION:
            raise IndexFileError(f"{path.name} has format version {header['version']}, expected {VERSION}")
        data_start = _aligned(len(MAGIC) + 8 + length)
        arrays = {}
        for name, entry in header["arrays"].items():
            dtype, shape = np.dtype(entry["dtype"]), tuple(entry["shape"])
            start = data_start + entry["offset"]
            if start + dtype.itemsize * int(np.prod(shape)) > size:
                raise IndexFileError(f"{path.name} is truncated")
            if 0 in shape:
                arrays[name] = np.empty(shape, dtype)
            else:
                # A plain ndarray view of the map: numpy's memmap subclass slows every operation.
                arrays[name] = np.asarray(np.memmap(path, dtype, "r", offset=start, shape=shape))
        return header["meta"], arrays
    except IndexFileError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexFileError(f"cannot read index file {path.name}: {error}") from error
