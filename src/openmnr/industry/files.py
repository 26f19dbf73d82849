"""Uploaded files: streamed to disk, hashed on arrival, kept encrypted or deleted.

The multipart body is never held in memory: ``SpoolingUpload`` writes the ``file`` part to a private
spool folder as it arrives, computing MD5 (the protocol's answer) and SHA-256 on the way. The view
has already refused a body above the upload cap by its Content-Length, before reading a byte. Then
``signals_of`` hashes pictures and videos perceptually (PDQ, vPDQ) through the banks app, which
decodes untrusted media in a child process with memory and time limits when the operator asks for
it (OPENMNR_BANKS_ISOLATE_DECODE). A file that is not a picture or video (a chat log, an archive) is
accepted as NCMEC accepts it, with MD5 and SHA-256 only.

Bytes outlive the request only in the encrypted evidence store, and only when the operator keeps
evidence; the spooled copy is deleted in every case, success or failure (``spooled`` is a context
manager for exactly that).
"""

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from openmnr.banks import services as banks
from openmnr.core import media, signals

from . import evidence
from .models import File

FIELD = "file"
#: The signals ``signals_of`` computes (those of them that apply to the content: PDQ for a
#: picture, vPDQ for a video); the digests come from the spooling.
PERCEPTUAL = ("pdq", "vpdq")


def spool_dir() -> Path:
    folder = Path(settings.INDUSTRY_SPOOL_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


class SpooledFile(UploadedFile):
    """The ``file`` part, on disk, with its digests already computed."""

    def __init__(self, path: Path, name: str, size: int, md5: str, sha256: str, head: bytes):
        super().__init__(file=None, name=name, size=size)
        self.path, self.md5, self.sha256, self.head = path, md5, sha256, head

    def close(self):
        return None


class SpoolingUpload(FileUploadHandler):
    """Writes the ``file`` field to the spool folder while hashing it; other file fields are dropped."""

    def __init__(self, request=None):
        super().__init__(request)
        self.handle = None
        self.spooled: list[Path] = []

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.handle = None
        if field_name != FIELD:
            return
        fd, path = tempfile.mkstemp(dir=spool_dir(), prefix=".upload-")
        self.handle = os.fdopen(fd, "wb")
        self.path = Path(path)
        self.spooled.append(self.path)
        self.md5, self.sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
        self.size, self.head = 0, b""

    def receive_data_chunk(self, raw_data, start):
        if self.handle is None:
            return None
        if len(self.head) < 64:
            self.head += raw_data[: 64 - len(self.head)]
        self.handle.write(raw_data)
        self.md5.update(raw_data)
        self.sha256.update(raw_data)
        self.size += len(raw_data)
        return None

    def file_complete(self, file_size):
        if self.handle is None:
            return None
        self.handle.close()
        self.handle = None
        return SpooledFile(
            self.path,
            self.file_name or "",
            self.size,
            self.md5.hexdigest(),
            self.sha256.hexdigest(),
            self.head,
        )

    def upload_interrupted(self):
        self.cleanup()

    def cleanup(self):
        if self.handle is not None:
            self.handle.close()
            self.handle = None
        for path in self.spooled:
            path.unlink(missing_ok=True)


@contextmanager
def spooled(request):
    """Install the spooling handler on ``request``; whatever happens, delete the spooled copies."""
    handler = SpoolingUpload(request)
    request.upload_handlers = [handler]
    try:
        yield handler
    finally:
        handler.cleanup()


@dataclass
class Signals:
    media_type: str = ""
    pdq: str = ""
    pdq_quality: int | None = None
    vpdq: str = ""
    error: str = ""
    evidence_id: str = ""
    thumbnail_id: str = ""
    thumbnail_sha256: str = ""
    #: The PDQ's query probes, as ``File.pdq_probes`` keeps them: {"probes": [...], "extra": [...]}.
    pdq_probes: dict = field(default_factory=dict)
    #: The picture's keypoints (``OPENMNR_MATCH_FEATURES``), as ``File.pdq_keypoints`` keeps them
    #: until the report is matched; empty with the setting off.
    pdq_keypoints: bytes = b""

    def for_matching(self, md5: str, sha256: str) -> dict[str, str | signals.HashValue]:
        """What to match against the banks: exact digests always, the perceptual hash when it is
        good enough to act on (a flat picture's PDQ matches too much), with its query probes and
        keypoints, so a turned, mirrored, bordered or (``OPENMNR_MATCH_FEATURES``) cropped copy of
        a bank picture is found as the match API finds it."""
        found: dict[str, str | signals.HashValue] = {"md5": md5, "sha256": sha256}
        if self.vpdq:
            found["vpdq"] = self.vpdq
        elif self.pdq and (self.pdq_quality or 0) >= 50:
            found["pdq"] = signals.HashValue(
                self.pdq,
                probes=tuple(self.pdq_probes.get("probes", ())),
                extra_probes=tuple(self.pdq_probes.get("extra", ())),
                keypoints=bytes(self.pdq_keypoints),
            )
        return found


class PerceptualMemo:
    """The perceptual signals of the last files hashed in this process, by their SHA-256.

    Industry reports carry the same files again and again: known material circulates, and a
    provider reports each copy it finds, often the very same bytes. Decoding a picture costs about 4 ms of CPU in a decoder process and a video seconds,
    where the SHA-256, computed anyway while the upload streams in, costs nothing more; identical
    bytes decode to identical signals, so a file whose SHA-256 (and size) was hashed with the
    same limits (probes, keypoints: ``banks.match_limits``) takes that result instead of a decode.

    Invariants: only a successful decode is kept (an error may be the decoder's limits on a busy
    machine, so the next copy is decoded again); the key holds the limits, so a setting changed
    on a restart never meets a result computed under the old one; nothing here leaves the
    process, is logged or is returned to anyone but the caller hashing the same bytes. Bounded to
    ``size`` entries, least recently used dropped first (a picture's entry is its hashes, probes
    and at most ``features.QUERY_POINTS`` keypoints, a few KiB). The trade-off: a re-encoded copy
    (other bytes, same picture) is decoded as before; only byte-identical copies are saved."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_memo = PerceptualMemo()


def signals_of(upload: SpooledFile) -> Signals:
    """Perceptual signals of a spooled file, and its encrypted copy when evidence is kept."""
    found = Signals(media_type=media.sniff(upload.head) or "")
    data = None
    if found.media_type and upload.size > media.MAX_BYTES:
        found.error = f"too large for perceptual hashing (over {media.MAX_BYTES // (1024 * 1024)} MiB)"
    elif found.media_type:
        limits = banks.match_limits()
        key = (upload.sha256, upload.size, limits)
        if (known := _memo.get(key)) is not None:
            found.pdq, found.pdq_quality, found.vpdq, probes, found.pdq_keypoints = known
            found.pdq_probes = {name: list(values) for name, values in probes.items()}
        else:
            data = upload.path.read_bytes()
            try:
                # Only the perceptual signals: MD5 and SHA-256 were computed as the bytes streamed
                # in (``SpoolingUpload``), so a second pass over the file would compute them again.
                hashes = signals.hash_content(data, limits=limits, only=PERCEPTUAL).raise_for_error()
            except media.MediaError as exc:
                found.error = f"the {found.media_type} cannot be decoded: {exc}"
            else:
                if "vpdq" in hashes:
                    found.vpdq = hashes["vpdq"].value
                else:
                    found.pdq, found.pdq_quality = hashes["pdq"].value, hashes["pdq"].quality
                    if hashes["pdq"].probes or hashes["pdq"].extra_probes:
                        found.pdq_probes = {
                            "probes": list(hashes["pdq"].probes),
                            "extra": list(hashes["pdq"].extra_probes),
                        }
                    found.pdq_keypoints = hashes["pdq"].keypoints
                probes = {name: tuple(values) for name, values in found.pdq_probes.items()}
                _memo.put(key, (found.pdq, found.pdq_quality, found.vpdq, probes, found.pdq_keypoints))
    else:
        found.error = "not a picture or video: kept as MD5 and SHA-256 only"
    store = evidence.writer()
    if store is not None:
        data = data if data is not None else upload.path.read_bytes()
        found.evidence_id, _digest = store.put(data)
        if found.media_type == "photo" and not found.error:
            found.thumbnail_id, found.thumbnail_sha256 = _thumbnail(store, data)
    return found


def _thumbnail(store, data: bytes) -> tuple[str, str]:
    """The blurred, greyscale thumbnail the protective viewer shows by default (the hotline's)."""
    from openmnr.hotline.services import blurred_thumbnail

    try:
        small = media.run_isolated(blurred_thumbnail, data)
    except media.MediaError:
        return "", ""
    return store.put(small)


def file_row(upload: SpooledFile, found: Signals, **keys) -> File:
    """The ``File`` row (not saved) for a spooled upload and its signals, with ``keys`` (the
    report or its id, the file id): one place that says which columns an arriving file fills,
    for the exchange's upload and the bulk import alike."""
    return File(
        **keys,
        name=(upload.name or "")[:255],
        size=upload.size,
        media_type=found.media_type,
        md5=upload.md5,
        sha256=upload.sha256,
        pdq=found.pdq,
        pdq_quality=found.pdq_quality,
        pdq_probes=found.pdq_probes,
        pdq_keypoints=found.pdq_keypoints,
        vpdq=found.vpdq,
        error=found.error,
        evidence_id=found.evidence_id,
        thumbnail_id=found.thumbnail_id,
        thumbnail_sha256=found.thumbnail_sha256,
    )
