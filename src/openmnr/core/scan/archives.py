"""Reading the members of zip and tar archives, inside caps, so a scan of storage sees what is
packed in archives without a zip bomb or a deep nest taking the worker down.

Three caps, each reported as its own error and none stopping the scan: ``max_depth`` (an archive
in an archive in an archive... beyond it, ``ArchiveTooDeep``), ``max_total_bytes`` (what one
archive, its nested archives included, may expand to) and ``max_ratio`` (expanded over compressed
size for one member: a member of a few KB claiming gigabytes is refused before it is inflated).
Sizes in headers can lie, so a member is read with a limit one byte past what is allowed, never
trusting the header alone. The price: a legitimate archive above the caps is listed as an error
to be looked at, not scanned; the caps are options of ``openmnr scan``.

Members are named ``ARCHIVE!/MEMBER`` (``a.zip!/b.tar!/c.jpg`` for nested ones).
"""

import io
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import ArchiveBomb, ArchiveTooDeep, BadArchive, ScanError

SEPARATOR = "!/"


@dataclass(frozen=True)
class Caps:
    max_depth: int = 3
    max_total_bytes: int = 4 * 2**30
    max_ratio: int = 200
    max_member_bytes: int = 50 * 2**20
    max_members: int = 100_000


def kind(head: bytes) -> str | None:
    """ "zip", "tar" (plain or gzip/bzip2/xz-compressed) or None, from the first 512 bytes."""
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00":
        return "tar"  # a compressed tar is told from a lone .gz by opening it (BadArchive if not)
    return None


class _Budget:
    """What one top-level archive may still expand to, shared by its nested archives."""

    def __init__(self, caps: Caps):
        self.left = caps.max_total_bytes
        self.members = caps.max_members

    def spend(self, size: int) -> None:
        self.left -= size
        self.members -= 1
        if self.left < 0:
            raise ArchiveBomb("the archive expands past the total size cap")
        if self.members < 0:
            raise ArchiveBomb("the archive holds more members than the cap")


def members(
    name: str, source, caps: Caps, *, depth: int = 1, budget: _Budget | None = None
) -> Iterator[tuple[str, bytes | ScanError]]:
    """(member name, its bytes or the error that kept them from being read) for each file in the
    archive `source` (a seekable binary file), nested archives expanded within the caps. An error
    that ends the whole archive (unreadable, a cap reached) is yielded last, under the archive's name."""
    if depth > caps.max_depth:
        yield name, ArchiveTooDeep(f"archives nested more than {caps.max_depth} deep")
        return
    budget = budget or _Budget(caps)
    head = source.read(512)
    source.seek(0)
    try:
        reader = _zip_members if kind(head) == "zip" else _tar_members
        for member, data in reader(source, caps, budget):
            path = f"{name}{SEPARATOR}{member}"
            if isinstance(data, bytes) and kind(data[:512]) is not None:
                yield from members(path, io.BytesIO(data), caps, depth=depth + 1, budget=budget)
            else:
                yield path, data
    except ScanError as exc:
        yield name, exc
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, RuntimeError) as exc:
        # RuntimeError: zipfile's answer to an encrypted member; OSError/EOFError: a truncated stream.
        yield name, BadArchive(f"the archive cannot be read: {exc}")


def _zip_members(source, caps: Caps, budget: _Budget) -> Iterator[tuple[str, bytes | ScanError]]:
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.file_size > caps.max_member_bytes:
                yield info.filename, ArchiveBomb("the member is larger than the member size cap")
                continue
            if info.file_size > caps.max_ratio * max(info.compress_size, 1) and info.file_size > 2**20:
                yield info.filename, ArchiveBomb(f"the member expands more than {caps.max_ratio} times")
                continue
            with archive.open(info) as member:
                data = member.read(caps.max_member_bytes + 1)
            if len(data) > caps.max_member_bytes:
                yield info.filename, ArchiveBomb("the member is larger than its header says")
                continue
            budget.spend(len(data))
            yield info.filename, data


def _tar_members(source, caps: Caps, budget: _Budget) -> Iterator[tuple[str, bytes | ScanError]]:
    with tarfile.open(fileobj=source, mode="r:*") as archive:
        for info in archive:
            budget.spend(0)
            if not info.isfile():
                continue
            if info.size > caps.max_member_bytes:
                yield info.name, ArchiveBomb("the member is larger than the member size cap")
                continue
            member = archive.extractfile(info)
            data = member.read(caps.max_member_bytes + 1) if member is not None else b""
            budget.spend(len(data))
            yield info.name, data
