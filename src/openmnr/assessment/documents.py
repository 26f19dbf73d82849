"""Evidence documents: what a contributor may upload, how its type is found, where it is kept.

The type comes from the bytes, never from the file name or the browser's Content-Type: a file named
``report.pdf`` that is really an HTML page is refused. The allowed types are the documents a national
assessment cites (PDF, ODT, DOCX, plain text and CSV) and screenshots (PNG, JPEG). Files are kept
under ``settings.ASSESSMENT_EVIDENCE_DIR`` with a random name and are only ever served back as
downloads (``Content-Disposition: attachment``, ``nosniff``), so a browser never renders them.
"""

import hashlib
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .errors import EvidenceError

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TXT, CSV = "text/plain", "text/csv"

# What the interface calls each type, and the extension a download gets.
TYPES = {
    PDF: ("PDF", ".pdf"),
    PNG: ("PNG image", ".png"),
    JPEG: ("JPEG image", ".jpg"),
    ODT: ("OpenDocument text", ".odt"),
    DOCX: ("Word document", ".docx"),
    TXT: ("Plain text", ".txt"),
    CSV: ("CSV", ".csv"),
}

_TEXT_SAMPLE = 64 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredDocument:
    stored_name: str
    content_type: str
    size: int
    sha256: str


def allowed_types_label() -> str:
    return ", ".join(label for label, _ in TYPES.values())


def max_bytes() -> int:
    return settings.ASSESSMENT_EVIDENCE_MAX_BYTES


def sniff(path: Path, claimed_name: str) -> str:
    """The content type of the file at ``path``, or EvidenceError if it is none of the allowed types.

    ``claimed_name`` only chooses between two readings the bytes allow equally: plain text is called
    CSV when the name ends in .csv. Both are served as downloads, so the name cannot make a file
    more dangerous than its bytes.
    """
    with path.open("rb") as f:
        head = f.read(_TEXT_SAMPLE)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(path)
    if _is_text(path):
        return CSV if claimed_name.lower().endswith(".csv") else TXT
    raise EvidenceError(f"This file is not one of the allowed types ({allowed_types_label()}).")


def _sniff_zip(path: Path) -> str:
    """ODT and DOCX are both zip files; what they hold tells them apart. Only the directory and one
    tiny member are read, so a zip bomb costs nothing."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                if archive.read("mimetype").strip() == ODT.encode():
                    return ODT
            if "[Content_Types].xml" in names and "word/document.xml" in names:
                return DOCX
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        pass
    raise EvidenceError("This archive is not an OpenDocument text or Word document.")


def _is_text(path: Path) -> bool:
    """UTF-8 without control characters other than tab and line breaks, read in full: a text file
    that turns binary after the first few kilobytes is not text."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text) and "\x7f" not in text


def store(upload) -> StoredDocument:
    """Copy an uploaded file (Django UploadedFile) into the evidence folder after checking its size
    and type. Raises EvidenceError; nothing is left on disk when it does."""
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise EvidenceError(f"The file is larger than the limit of {_mib(limit)}.")
    folder = Path(settings.ASSESSMENT_EVIDENCE_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    partial = folder / f".{stored_name}.part"
    digest, size = hashlib.sha256(), 0
    try:
        with partial.open("xb") as out:
            for chunk in upload.chunks(_CHUNK):
                size += len(chunk)
                # The declared size can lie; count what actually arrives.
                if size > limit:
                    raise EvidenceError(f"The file is larger than the limit of {_mib(limit)}.")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise EvidenceError("The file is empty.")
        content_type = sniff(partial, upload.name or "")
        os.replace(partial, folder / stored_name)
    finally:
        partial.unlink(missing_ok=True)
    return StoredDocument(stored_name, content_type, size, digest.hexdigest())


def path_of(stored_name: str) -> Path:
    if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
        raise EvidenceError("Unknown document.")
    return Path(settings.ASSESSMENT_EVIDENCE_DIR) / stored_name


def delete(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


def safe_stem(text: str) -> str:
    """A file name stem made of the text's ASCII letters and digits (anything else becomes '-')."""
    stem = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in text)
    return stem.strip("-")[:80] or "evidence"


def download_name(title: str, content_type: str) -> str:
    """The name a document is downloaded as: from its title, with the extension of the type its
    content really is (never the name it was uploaded with)."""
    return safe_stem(title) + TYPES[content_type][1]


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"
