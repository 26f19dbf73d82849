"""The task a scan runs on a Dask worker: read, hash and match one batch of files.

A batch is up to a few hundred files (``sources.batches``), so a task lasts from about 100 ms to a second:
long enough that Dask's per-task cost (a few ms of scheduling and transfer) is a few percent, short
enough that a worker lost mid-batch costs at most a second of work redone elsewhere, and that the
progress bar moves. The index is loaded once per worker process (``index.load``, memory-mapped from
the bundle) and kept for every later batch.

Each file yields one row and one only: its signals and matches, or its error. A file is read whole
and hashed from the bytes read, and its size and modification time are checked before and after:
a file that changed while read is reported as such (``ChangedWhileRead``), never with hashes of a
mix of two versions. Archives are expanded by ``archives.members``; each member is a row.
"""

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from openmnr.core import media, signals
from openmnr.core.signals import Limits

from . import archives, index
from .errors import ChangedWhileRead, ScanError, Unreadable
from .sources import Batch, Item, is_url

#: The file's own signals written to the results (the caller's own files; no bank value is ever written).
SIGNAL_COLUMNS = ("pdq", "pdq_quality", "md5", "sha256")
COLUMNS = (
    "path",
    "size",
    "content_type",
    *SIGNAL_COLUMNS,
    "match",
    "action",
    "banks",
    "entries",
    "distance",
    "error_kind",
    "error",
)


#: Where a row keeps its file's signal values until the batch is matched (never written out).
_VALUES = "_values"


@dataclass(frozen=True)
class Options:
    limits: Limits = field(default_factory=Limits)
    caps: archives.Caps = field(default_factory=archives.Caps)


@dataclass(frozen=True)
class Done:
    """What a worker sends back for a batch: its counts, and where its rows are: in the part file
    the worker wrote itself (``part``, relative to the scan's folder), or, when the worker cannot
    see that folder, as one Arrow table for the driver to write (one buffer to send, not a dict
    per file)."""

    batch_id: str
    files: int
    table: object  # pyarrow.Table in results.SCHEMA, or None when the worker wrote `part`
    rows: int
    matches: int
    errors_by_kind: dict[str, int]
    part: str = ""


def scan_batch_part(batch: Batch, bundle: str, options: Options, out: str = "", scan_id: str = "") -> Done:
    """``scan_batch`` as the scan's task runs it: the rows made into a table and, when this worker
    sees the scan's folder `out` (its ``scan-id`` file says `scan_id`: the same folder, not merely
    the same path on another host), written by the worker to a part file of their own
    (``results.write_part``). Then only the batch's id and counts travel back: the driver, whose
    process also runs the local cluster's scheduler on the cores the workers hash on, neither
    receives nor writes the rows. A worker that cannot see the folder sends the table instead."""
    from . import results

    rows = scan_batch(batch, bundle, options)
    kinds: dict[str, int] = {}
    for row in rows:
        if row["error_kind"]:
            kinds[row["error_kind"]] = kinds.get(row["error_kind"], 0) + 1
    matches = sum(1 for row in rows if row["match"])
    table = results.table_of(rows)
    if out and results.sees(out, scan_id):
        try:
            part = results.write_part(out, batch.id, table)
        except OSError:
            pass  # a full or vanished disk here: the driver is sent the rows and writes them
        else:
            return Done(batch.id, len(batch.items), None, len(rows), matches, kinds, part)
    return Done(batch.id, len(batch.items), table, len(rows), matches, kinds)


def scan_batch(batch: Batch, bundle: str, options: Options) -> list[dict]:
    """The rows of every file of `batch` (archive members expanded), matched against `bundle`."""
    loaded = index.load(bundle)
    rows: list[dict] = []
    for item in batch.items:
        if item.error:
            rows.append(_error_row(item.path, item.size, item.error_kind, item.error))
            continue
        rows.extend(_scan_item(item, options))
    hashed = [row for row in rows if row.get(_VALUES)]
    for row, columns in zip(hashed, loaded.match_many([row[_VALUES] for row in hashed]), strict=True):
        row.update(columns)
    for row in rows:
        row.pop(_VALUES, None)
    return rows


def _scan_item(item: Item, options: Options) -> Iterator[dict]:
    try:
        with _Opened(item.path) as (source, changed):
            head = source.read(512)
            source.seek(0)
            if archives.kind(head) is not None:
                rows = list(_scan_archive(item.path, source, options))
                changed()
                yield from rows
                return
            data = source.read(options.limits.max_bytes + 1)
            changed()
    except ScanError as exc:
        yield _error_row(item.path, item.size, exc.kind, str(exc))
        return
    yield _scan_bytes(item.path, data, options)


def _scan_archive(path: str, source, options: Options) -> Iterator[dict]:
    for name, data in archives.members(path, source, options.caps):
        if isinstance(data, ScanError):
            yield _error_row(name, 0, data.kind, str(data))
        else:
            yield _scan_bytes(name, data, options)


def _scan_bytes(path: str, data: bytes, options: Options) -> dict:
    """The row of one file's content, its signal values kept under `_VALUES` for matching."""
    row = _row(path, len(data))
    try:
        hashes = signals.hash_content(data, limits=options.limits)
    except (media.MediaError, signals.SignalError) as exc:
        return _error_row(path, len(data), _kind_of(exc), str(exc))
    row["content_type"] = str(hashes.content_type)
    for name, value in hashes.items():
        if name in row:
            row[name] = value.value
            if name == "pdq" and value.quality is not None:
                row["pdq_quality"] = value.quality
    if hashes.error is not None:
        row["error_kind"], row["error"] = _kind_of(hashes.error), str(hashes.error)
    row[_VALUES] = hashes.texts()
    return row


class _Opened:
    """A local file or an fsspec URL, opened for reading; `changed()` raises `ChangedWhileRead`
    when a local file's size or modification time is not what it was when opened."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        try:
            if is_url(self.path):
                import fsspec

                self.file = fsspec.open(self.path, "rb").open()
                self.before = None
            else:
                self.file = open(self.path.removeprefix("file://"), "rb")  # noqa: SIM115 (closed in __exit__)
                self.before = _signature(os.fstat(self.file.fileno()))
        except OSError as exc:
            raise Unreadable(exc.strerror or str(exc)) from None
        except ValueError as exc:
            raise Unreadable(str(exc)) from None
        return _Guarded(self.file), self.changed

    def changed(self) -> None:
        if self.before is None:
            return
        try:
            after = _signature(os.stat(self.path.removeprefix("file://")))
        except OSError:
            after = None
        if after != self.before or _signature(os.fstat(self.file.fileno())) != self.before:
            raise ChangedWhileRead("the file changed while it was read")

    def __exit__(self, *exc):
        self.file.close()
        return False


class _Guarded(io.RawIOBase):
    """The opened file, with read errors (EIO, a vanished network object) as `Unreadable`."""

    def __init__(self, file):
        self._file = file

    def read(self, size=-1):
        try:
            return self._file.read(size)
        except OSError as exc:
            raise Unreadable(exc.strerror or str(exc)) from None

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset, whence=0):
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def readable(self):
        return True

    def seekable(self):
        return True


def _signature(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns


def _row(path: str, size: int) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(path=path, size=size, match=False, error_kind="", error="")
    return row


def _error_row(path: str, size: int, kind: str, message: str) -> dict:
    row = _row(path, size)
    row.update(error_kind=kind, error=message)
    return row


def _kind_of(exc: Exception) -> str:
    """media.CorruptMedia -> "corrupt_media": the class name in snake case."""
    name = type(exc).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
