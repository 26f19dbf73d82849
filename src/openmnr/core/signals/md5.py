"""MD5 of a file's bytes: the exact-match digest most hash lists of known material still carry."""

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

_HEX = re.compile(r"[0-9a-f]{32}")


class Md5Signal(SignalType):
    """The digest of the bytes, whatever they hold; ThreatExchange calls it ``video_md5``."""

    name = "md5"
    label = "MD5"
    description = "MD5 of the file's bytes, 32 hexadecimal digits."
    content_types = (ContentType.PHOTO, ContentType.VIDEO)
    order = 20
    digits = 32
    local_name = "video_md5"
    key_bytes = 16

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        return HashValue(hashlib.md5(data, usedforsecurity=False).hexdigest())

    @classmethod
    def hash_file(cls, path: str | Path, *, limits: Limits = LIMITS) -> HashValue:
        with open(path, "rb") as file:
            return HashValue(
                hashlib.file_digest(file, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()
            )

    @classmethod
    def validate(cls, value: str) -> str:
        normalised = value.strip().lower()
        if not _HEX.fullmatch(normalised):
            raise InvalidSignalValue("an MD5 digest is 32 hexadecimal digits")
        return normalised

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        same = cls.validate(a) == cls.validate(b)
        return Comparison(same, 0 if same else 1)
