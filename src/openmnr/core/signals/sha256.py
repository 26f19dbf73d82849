"""SHA-256 of a file's bytes: the exact-match digest for new lists (MD5 collisions can be forged)."""

import hashlib
import re
from pathlib import Path

from openmnr.core.signals.base import (
    LIMITS,
    Comparison,
    ContentType,
    HashValue,
    InvalidSignalValue,
    Limits,
    SignalType,
)

_HEX = re.compile(r"[0-9a-f]{64}")


class Sha256Signal(SignalType):
    """The digest of the bytes, whatever they hold; ThreatExchange calls it ``video_sha256``."""

    name = "sha256"
    label = "SHA-256"
    description = "SHA-256 of the file's bytes, 64 hexadecimal digits."
    content_types = (ContentType.PHOTO, ContentType.VIDEO)
    order = 30
    digits = 64
    local_name = "video_sha256"
    key_bytes = 32

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        return HashValue(hashlib.sha256(data).hexdigest())

    @classmethod
    def hash_file(cls, path: str | Path, *, limits: Limits = LIMITS) -> HashValue:
        with open(path, "rb") as file:
            return HashValue(hashlib.file_digest(file, hashlib.sha256).hexdigest())

    @classmethod
    def validate(cls, value: str) -> str:
        normalised = value.strip().lower()
        if not _HEX.fullmatch(normalised):
            raise InvalidSignalValue("a SHA-256 digest is 64 hexadecimal digits")
        return normalised

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        same = cls.validate(a) == cls.validate(b)
        return Comparison(same, 0 if same else 1)
