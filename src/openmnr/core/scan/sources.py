"""What a scan reads: the files under each SOURCE, listed in a fixed order and cut into batches.

A SOURCE is a directory (walked recursively), a file (an archive is one file here: the worker
opens it, see ``archives.py``), ``@LIST`` (a text file of paths or URLs, one a line), or a URL of
any filesystem fsspec reads (``s3://``, ``gs://``, ``memory://``...), a directory of it or one
object. Listing happens once, in the process that drives the scan; reading happens in the workers.

The order is fixed (each directory sorted) and batches are cut at fixed counts and sizes, so the
same sources give the same batches with the same ids every time: that is what lets a killed scan
skip the batches its manifest says are finished and never report a file twice. A file added to a
source between the two runs shifts the batches after it; the manifest then holds ids the new run
does not produce (their files are scanned again, and those old batches' rows are left out of the
results: ``results.Output.finished``) and never an id that now means other files, because an id
is the digest of its files' names and sizes.

Walking follows symbolic links to directories, remembering each directory's device and inode on the
way down, so a link back to a directory being walked is reported (``SymlinkLoop``) instead of
walked forever, and a link that leads to itself is reported the same way.
"""

import errno
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import BadSource, ScanError, SymlinkLoop, Unreadable


@dataclass(frozen=True, slots=True)
class Item:
    """One file to scan (a path or a URL) and its size when listed; or, with ``error`` set, one
    that could not even be listed (it is reported like a file that failed)."""

    path: str
    size: int = 0
    error: str = ""
    error_kind: str = ""


def failed(path: str, error: ScanError) -> Item:
    return Item(path, 0, str(error), error.kind)


def is_url(source: str) -> bool:
    return "://" in source and not source.startswith("file://")


def list_items(sources: Iterable[str]) -> Iterator[Item]:
    """Every file of every source, in a fixed order."""
    for source in sources:
        if source.startswith("@"):
            yield from _from_list(source[1:])
        elif is_url(source):
            yield from _from_url(source)
        else:
            yield from _from_path(Path(source.removeprefix("file://")))


def _from_list(list_file: str) -> Iterator[Item]:
    try:
        lines = Path(list_file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        yield failed(list_file, BadSource(f"the list of files cannot be read: {exc}"))
        return
    for line in lines:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if is_url(entry):
            yield from _from_url(entry)
        else:
            yield from _from_path(Path(entry))


def _from_url(url: str) -> Iterator[Item]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url)
        if fs.isdir(root):
            found = fs.find(root, detail=True)
            for name in sorted(found):
                info = found[name]
                if info.get("type") == "file":
                    yield Item(fs.unstrip_protocol(name), int(info.get("size") or 0))
        else:
            yield Item(url, int(fs.size(root) or 0))
    except (OSError, ValueError, ImportError) as exc:
        yield failed(url, BadSource(f"cannot list {url}: {exc}"))


def _from_path(path: Path) -> Iterator[Item]:
    try:
        info = path.stat()
    except OSError as exc:
        yield failed(str(path), _os_error(exc, path))
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _walk(path, {(info.st_dev, info.st_ino)})
    elif stat.S_ISREG(info.st_mode):
        yield Item(str(path), info.st_size)
    else:
        yield failed(str(path), BadSource("not a regular file or a directory"))


def _walk(directory: Path, ancestors: set[tuple[int, int]]) -> Iterator[Item]:
    """The files under `directory`, sorted by name at each level. ``os.scandir`` with plain strings:
    the listing runs in the driver, whose CPU the workers need, and a ``Path`` and a separate
    ``stat`` call per file cost several times what the entry's cached ``stat`` does."""
    try:
        with os.scandir(directory) as found:
            entries = sorted(found, key=lambda entry: entry.name)
    except OSError as exc:
        yield failed(str(directory), _os_error(exc, directory))
        return
    for entry in entries:
        try:
            info = entry.stat()  # follows a symbolic link, as Path.stat did
        except OSError as exc:
            yield failed(entry.path, _os_error(exc, Path(entry.path)))
            continue
        if stat.S_ISDIR(info.st_mode):
            key = (info.st_dev, info.st_ino)
            if key in ancestors:
                yield failed(entry.path, SymlinkLoop("a symbolic link back to a directory above it"))
                continue
            yield from _walk(Path(entry.path), ancestors | {key})
        elif stat.S_ISREG(info.st_mode):
            yield Item(entry.path, info.st_size)
        # Sockets, pipes and devices are not files to scan: skipped without a word.


def _os_error(exc: OSError, path: Path) -> ScanError:
    if exc.errno == errno.ELOOP:
        return SymlinkLoop("a symbolic link that leads back to itself")
    if exc.errno == errno.ENOENT and path.is_symlink():
        return Unreadable("a symbolic link to nothing")
    return Unreadable(exc.strerror or str(exc))


@dataclass(frozen=True, slots=True)
class Batch:
    """Files scanned by one task. ``id`` is the digest of their names and sizes (stable across runs)."""

    id: str
    items: tuple[Item, ...]

    @property
    def size(self) -> int:
        return sum(item.size for item in self.items)

    def __reduce__(self):
        """Pickled as columns of plain strings and numbers: a batch is pickled by the driver for
        each task (and again by the scheduler, which shares the driver's cores with the workers),
        and pickling a few hundred dataclasses one by one took some 2 ms a batch there."""
        items = self.items
        if any(item.error for item in items):
            columns = (
                [i.path for i in items],
                [i.size for i in items],
                [i.error for i in items],
                [i.error_kind for i in items],
            )
        else:
            columns = ([i.path for i in items], [i.size for i in items])
        return _unpickle_batch, (self.id, *columns)


def _unpickle_batch(batch_id: str, paths: list[str], sizes: list[int], *errors: list[str]) -> Batch:
    if errors:
        return Batch(batch_id, tuple(map(Item, paths, sizes, *errors)))
    return Batch(batch_id, tuple(map(Item, paths, sizes)))


#: The last batches' files are cut again into smaller ones (``batches``).
TAIL_BATCHES, TAIL_CUT = 2, 4


def batches(items: Iterable[Item], *, max_files: int, max_bytes: int) -> Iterator[Batch]:
    """Cut `items` into batches of at most `max_files` files and about `max_bytes` bytes (a file
    larger than that is a batch of its own): each batch a task of roughly constant cost.

    The files of the last ``TAIL_BATCHES`` batches are cut into batches ``TAIL_CUT`` times
    smaller: when the scan ends, a worker that has finished waits for the others' last tasks, on
    average half a task each, and a batch of a second wastes half a second of every free core.
    The cut depends on the listing alone (not on the number of workers), so the same sources
    still give the same batches."""
    tail: list[list[Item]] = []
    for files in _cut(items, max_files, max_bytes):
        tail.append(files)
        if len(tail) > TAIL_BATCHES:
            yield _batch(tail.pop(0))
    last = [item for files in tail for item in files]
    small_files, small_bytes = max(1, max_files // TAIL_CUT), max(1, max_bytes // TAIL_CUT)
    for files in _cut(last, small_files, small_bytes):
        yield _batch(files)


def _cut(items: Iterable[Item], max_files: int, max_bytes: int) -> Iterator[list[Item]]:
    current: list[Item] = []
    size = 0
    for item in items:
        if current and (len(current) >= max_files or size + item.size > max_bytes):
            yield current
            current, size = [], 0
        current.append(item)
        size += item.size
    if current:
        yield current


def _batch(items: list[Item]) -> Batch:
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item.path}\0{item.size}\n".encode("utf-8", "surrogateescape"))
    return Batch(digest.hexdigest()[:24], tuple(items))
