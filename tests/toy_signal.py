"""A toy signal type that exists only in the tests: what adding a signal type takes.

It is declared as a real one would be (a module of ``openmnr.core.signals`` would hold the same
class) and registered only while a test runs (``registered_toy``), so the tests can show that it
flows through hashing, hash lists, the banks, their matcher and their API schema with no change
anywhere else.
"""

import hashlib
import re
from contextlib import contextmanager

from openmnr.core import signals
from openmnr.core.signals import (
    LIMITS,
    Comparison,
    ContentType,
    HashValue,
    InvalidSignalValue,
    Limits,
    SignalType,
)

_HEX = re.compile(r"[0-9a-f]{32}")


class ToySignal(SignalType):
    """BLAKE2b-128 of the bytes of a picture or video: an exact digest, like MD5."""

    name = "toy_blake2"
    label = "Toy BLAKE2"
    description = "Toy: BLAKE2b-128 of the file's bytes, 32 hexadecimal digits."
    content_types = (ContentType.PHOTO, ContentType.VIDEO)
    order = 90
    digits = 32
    local_name = "toy_blake2"
    key_bytes = 16

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        return HashValue(hashlib.blake2b(data, digest_size=16).hexdigest())

    @classmethod
    def validate(cls, value: str) -> str:
        normalised = value.strip().lower()
        if not _HEX.fullmatch(normalised):
            raise InvalidSignalValue("a toy BLAKE2 digest is 32 hexadecimal digits")
        return normalised

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        same = cls.validate(a) == cls.validate(b)
        return Comparison(same, 0 if same else 1)


@contextmanager
def registered_toy():
    """The toy signal type, registered for the duration of the block."""
    signals.register(ToySignal)
    try:
        yield ToySignal
    finally:
        signals.unregister(ToySignal.name)
