"""SHA-256 of a file's bytes: the exact-match digest for new lists (MD5 collisions can be forged)."""

import hashlib
import re
from pathlib import Path

from openmnr.core.signals.base import Comparison, ContentType, HashValue, InvalidSignalValue, SignalType

_HEX = re.compile(r"[0-9a-f]{64}")


class Sha256Signal(SignalType):
    name = "sha256"
    content_types = (ContentType.PHOTO, ContentType.VIDEO)

    @classmethod
    def hash_bytes(cls, data: bytes) -> HashValue:
        return HashValue(hashlib.sha256(data).hexdigest())

    @classmethod
    def hash_file(cls, path: str | Path) -> HashValue:
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
