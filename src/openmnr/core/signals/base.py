"""The one small interface every signal type implements.

Modelled on ThreatExchange's ``SignalType``: a signal type has a name, the content types it applies
to, a way to hash content, a way to validate a value received from elsewhere (a hash list, an API
call) and a way to compare two values. Each signal type lives in its own module under
``openmnr.core.signals`` and is registered by name in ``openmnr.core.signals.__init__``.

Unlike ThreatExchange, hashing never returns an empty string to mean "no hash": content that cannot
be hashed raises a typed error, and a perceptual hash of poor quality comes back marked as such.
"""

import abc
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple


class ContentType(enum.StrEnum):
    """What kind of content a signal type hashes (ThreatExchange's content types)."""

    PHOTO = "photo"
    VIDEO = "video"
    URL = "url"


class InvalidSignalValue(ValueError):
    """A value is not well-formed for its signal type (wrong length, characters or shape)."""


@dataclass(frozen=True, slots=True)
class HashValue:
    """The result of hashing one piece of content.

    ``quality`` is 0-100 for perceptual signal types (PDQ) and ``None`` for exact ones. A perceptual
    hash below the signal type's quality threshold is still returned, with ``low_quality`` set, so a
    caller decides what to do with it instead of receiving a silent empty value.
    """

    value: str
    quality: int | None = None
    low_quality: bool = False


class Comparison(NamedTuple):
    """How close two values are. Exact signal types report distance 0 on a match and 1 otherwise."""

    match: bool
    distance: int


class SignalType(abc.ABC):
    """A way of turning content into a comparable value (a "hash").

    Subclasses set ``name`` (lower_snake_case, used in files, the API and the command line) and
    ``content_types``, and implement ``hash_bytes``, ``validate`` and ``compare``. Text-like signal
    types (URLs) receive their content as UTF-8 bytes. Signal types whose content can be large
    (video) override ``hash_file`` so they stream instead of reading the whole file.
    """

    name: ClassVar[str]
    content_types: ClassVar[tuple[ContentType, ...]]

    @classmethod
    @abc.abstractmethod
    def hash_bytes(cls, data: bytes) -> HashValue:
        """Hash content held in memory; raise a typed error if it cannot be hashed."""

    @classmethod
    def hash_file(cls, path: str | Path) -> HashValue:
        """Hash the content of a file."""
        return cls.hash_bytes(Path(path).read_bytes())

    @classmethod
    @abc.abstractmethod
    def validate(cls, value: str) -> str:
        """Return the normalised form of ``value`` or raise ``InvalidSignalValue``."""

    @classmethod
    @abc.abstractmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        """Compare two valid values; ``threshold`` (when the type has a distance) overrides the default."""
