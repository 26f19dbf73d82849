"""The signal types OpenMNR knows, in one registry, and the one way to hash content with them.

::

    from openmnr.core import signals

    signals.SIGNAL_TYPES                       # {name: SignalType subclass}, in order
    signals.get("pdq")                         # the type, or UnknownSignalType
    signals.for_content(signals.ContentType.VIDEO)
    hashes = signals.hash_content(data, limits=signals.Limits(isolate=True))
    hashes.content_type, hashes["md5"].value, hashes.error

Each signal type is one module of this package implementing ``base.SignalType`` (pdq, md5, sha256,
vpdq, url); ``registry.py`` finds them, ``content.py`` hashes content with every one that applies.
To add a signal type, write its module and its tests: see docs/hashing.md.
"""

from openmnr.core.signals.base import (
    LIMITS,
    Comparison,
    ContentType,
    Found,
    HashValue,
    InvalidSignalValue,
    Limits,
    SignalError,
    SignalType,
    UnknownSignalType,
)
from openmnr.core.signals.content import Hashes, hash_content, hash_path, sniff
from openmnr.core.signals.registry import SIGNAL_TYPES, for_content, get, register, unregister

__all__ = [
    "LIMITS",
    "SIGNAL_TYPES",
    "Comparison",
    "ContentType",
    "Found",
    "HashValue",
    "Hashes",
    "InvalidSignalValue",
    "Limits",
    "SignalError",
    "SignalType",
    "UnknownSignalType",
    "for_content",
    "get",
    "hash_content",
    "hash_path",
    "register",
    "sniff",
    "unregister",
]
