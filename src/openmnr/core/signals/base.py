"""The one interface every signal type implements, and the values it works with.

Modelled on ThreatExchange's ``SignalType``: a signal type has a name, the content types it applies
to, a way to hash content, a way to validate a value received from elsewhere (a hash list, an API
call), a way to compare two values, and the index that finds stored values close to a query. Each
signal type is one module of ``openmnr.core.signals``; the registry (``registry.py``) finds it there,
and everything else (hashing, hash lists, the banks, their API and forms, triage) reads the registry,
so adding a signal type is one new module and its tests.

Unlike ThreatExchange, hashing never returns an empty string to mean "no hash": content that cannot
be hashed raises a typed error, and a perceptual hash of poor quality comes back marked as such.

Matching a query has three steps, each a method here, so that a caller never needs to know which
signal type it holds: ``probes`` expands a query value into the keys looked up (one, the value
itself, for every type today; PDQ may later add its eight rotations and mirror images), ``search``
looks them up in the type's index, and, for a type whose index holds only parts of each value
(vPDQ keeps frames), ``verify`` confirms the candidates against the stored values.
"""

import abc
import enum
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, NamedTuple

import numpy as np

from openmnr.core import media
from openmnr.core.index import ExactIndex

Mode = Literal["fast", "reference"]


class ContentType(enum.StrEnum):
    """What kind of content a signal type hashes (ThreatExchange's content types)."""

    PHOTO = "photo"
    VIDEO = "video"
    URL = "url"


class SignalError(ValueError):
    """A signal type or a signal value that cannot be used. The message never contains a value
    (hash lists are sensitive). ``reason`` is the message without its position; ``line`` is the
    1-based line of the file the signal came from, when it came from one."""

    def __init__(self, reason: str, line: int | None = None):
        super().__init__(f"line {line}: {reason}" if line is not None else reason)
        self.reason = reason
        self.line = line


class UnknownSignalType(SignalError):
    """No signal type has that name, or the place it is used (a file format, a bank) cannot carry it."""


class InvalidSignalValue(SignalError):
    """A value is not well-formed for its signal type (wrong length, characters or shape)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What hashing one piece of content may cost, and how exactly perceptual hashes are computed.

    ``isolate`` decodes in a child process with memory and time limits (``media.run_isolated``):
    use it for content from outside. ``max_bytes`` and ``max_pixels`` cap the content and each
    picture or frame. ``mode`` is PDQ's: ``fast`` (reduced-scale decode) or ``reference``
    (bit-identical to Meta's code). ``per_second`` hashes about that many video frames a second
    (``None``: every frame).

    ``dihedral`` and ``trim`` ask a signal type that can (PDQ) for query probes as well: the
    hashes of the picture turned and mirrored, and of the picture inside a solid or blurred
    border (``HashValue.probes``). They are for content about to be *matched*; content about to
    be *stored* needs only its own hash, so both are off unless a caller asks.

    ``keypoints`` asks PDQ for the picture's local features as well: its that many strongest ORB
    keypoints (``robust.features``; ``HashValue.keypoints``), computed in the same (isolated)
    call, for a bank that keeps them (``ENTRY_POINTS``) or checks a query against them
    (``QUERY_POINTS``) when no hash matched (``OPENMNR_MATCH_FEATURES``). 0: none.
    """

    isolate: bool = False
    max_bytes: int = media.MAX_BYTES
    max_pixels: int = media.MAX_PIXELS
    mode: Mode = "fast"
    per_second: float | None = None
    dihedral: bool = False
    trim: bool = False
    keypoints: int = 0

    @property
    def wants_probes(self) -> bool:
        return self.dihedral or self.trim


#: The limits used when a caller gives none: in-process, the media caps, fast mode, every frame.
LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class HashValue:
    """The result of hashing one piece of content.

    ``quality`` is 0-100 for signal types that grade their hashes (PDQ) and ``None`` for the
    others. A hash below the signal type's ``quality_threshold`` is still returned, with
    ``low_quality`` set, so a caller decides what to do with it instead of receiving a silent
    empty value.

    A value hashed with probes (``Limits.dihedral``, ``Limits.trim``) carries the further keys
    to look the content up by: ``probes`` are searched at the match threshold like the value
    itself (the turned and mirrored picture's hashes: near-duplicates of each other, so they add
    few independent chances of a false match), ``extra_probes`` at the lowered radius the signal
    type gives them (``SignalType.search``). The matcher takes a ``HashValue`` wherever it takes a
    value; the distance reported is the nearest probe's.

    ``keypoints`` (``Limits.keypoints``): the picture's local features as
    ``robust.features.Features.to_bytes``, empty when not asked for. Left out of the repr.
    """

    value: str
    quality: int | None = None
    low_quality: bool = False
    probes: tuple[str, ...] = ()
    extra_probes: tuple[str, ...] = ()
    keypoints: bytes = field(default=b"", repr=False)


class Comparison(NamedTuple):
    """How close two values are. Exact signal types report distance 0 on a match and 1 otherwise."""

    match: bool
    distance: int


class Found(NamedTuple):
    """A stored value found for a query: the id it was stored under and its distance.

    For a value made of parts (vPDQ's frames) the two shares (%) are kept as well: of the query's
    parts found in the stored value, and of the stored value's parts found in the query."""

    id: int
    distance: int
    query_percent: int | None = None
    stored_percent: int | None = None


class SignalType(abc.ABC):
    """A way of turning content into a comparable value (a "hash"), declared in one class.

    A subclass sets the class attributes below and implements ``hash_bytes``, ``validate`` and
    ``compare``; the rest has defaults fit for an exact digest (MD5, SHA-256). Text-like signal
    types (URLs) receive their content as UTF-8 bytes. Signal types whose content can be large
    (video) override ``hash_file`` so they stream instead of reading the whole file.
    """

    #: lower_snake_case; used in files, the API, the command line and the database.
    name: ClassVar[str]
    #: For people (form labels, pages), e.g. "SHA-256".
    label: ClassVar[str]
    #: The value format in one sentence, for API schemas.
    description: ClassVar[str]
    #: The content types it applies to.
    content_types: ClassVar[tuple[ContentType, ...]]
    #: Where it comes among the signal types (lists, choices, schemas, hashing output): lower first.
    order: ClassVar[int] = 100

    #: Hexadecimal digits of a value, or ``None`` for a value longer than a key (vPDQ's frame list).
    #: Such a value is kept whole beside its identity (its SHA-256, see ``identity``), indexed under
    #: the keys ``index_keys`` derives from it, and a candidate the index proposes is confirmed by
    #: ``verify`` against the stored value.
    digits: ClassVar[int | None]
    #: The longest value accepted, in characters, for values longer than a key.
    max_length: ClassVar[int | None] = None
    #: A hash of quality below this comes back ``low_quality``; ``None``: hashes have no quality.
    quality_threshold: ClassVar[int | None] = None
    #: The name in ThreatExchange's local file format, or ``None`` when that format cannot carry it.
    local_name: ClassVar[str | None] = None

    #: The distance at or under which two values match, unless a caller says otherwise (0: exact).
    threshold: ClassVar[int] = 0
    #: Whether hashing decodes the content (pictures, frames): such work runs in a child process
    #: when ``Limits.isolate`` asks, and costs far more than a digest of the bytes.
    decodes: ClassVar[bool] = False
    #: How long an isolated hash of one piece of content may take, in seconds.
    isolated_timeout: ClassVar[float] = media.ISOLATED_TIMEOUT
    #: Bytes of one index key.
    key_bytes: ClassVar[int]

    # --- hashing -------------------------------------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        """Hash content held in memory; raise a typed error if it cannot be hashed."""

    @classmethod
    def hash_file(cls, path: str | Path, *, limits: Limits = LIMITS) -> HashValue:
        """Hash the content of a file."""
        return cls.hash_bytes(Path(path).read_bytes(), limits=limits)

    # --- values --------------------------------------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def validate(cls, value: str) -> str:
        """Return the normalised form of ``value`` or raise ``InvalidSignalValue``."""

    @classmethod
    @abc.abstractmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        """Compare two valid values; ``threshold`` (when the type has a distance) overrides the default."""

    @classmethod
    def compare_query(cls, query: HashValue, stored: str, threshold: int | None = None) -> Comparison:
        """Compare content hashed for matching (with its probes, if any) with a stored value: a
        type that computes probes compares the nearest; the others compare the value."""
        return cls.compare(query.value, stored, threshold)

    @classmethod
    def identity(cls, value: str) -> str:
        """What stands for a normalised value where a key is needed (uniqueness, masking, logs):
        the value itself, or the SHA-256 hex of a value longer than a key."""
        return value if cls.digits is not None else hashlib.sha256(value.encode()).hexdigest()

    @classmethod
    def json_value(cls, value: str) -> object:
        """The value as JSON output shows it (vPDQ: one object per frame)."""
        return value

    # --- the index -----------------------------------------------------------------------------

    @classmethod
    def index_keys(cls, value: str) -> list[str]:
        """The hex keys a stored value is indexed under: the value itself, unless it is longer
        than a key."""
        return [value]

    @classmethod
    def probes(cls, value: str) -> list[str]:
        """The hex keys a query value is looked up by: the value itself, unless the type says
        otherwise (vPDQ: a few of its frames)."""
        return [value]

    @classmethod
    def new_index(cls, keys: np.ndarray, ids: np.ndarray):
        """An index of ``keys`` ((n, key_bytes) uint8) under ``ids`` (int64); exact by default."""
        return ExactIndex.build(cls.key_bytes, keys, ids)

    @classmethod
    def load_index(cls, path: str | Path):
        """An index saved by ``new_index(...).save(path)``, memory-mapped."""
        return ExactIndex.load(path)

    @classmethod
    def search(
        cls, index, probes: list[list[str]], threshold: int, extra: list[list[str]] | None = None
    ) -> list[list[Found]]:
        """The stored values found for each query (given as its probes), one list per query.

        ``extra`` holds each query's further probes (``HashValue.extra_probes``); an exact type
        looks them up like the others, a type with a distance may search them at a lower radius."""
        if extra is not None:
            probes = [[*keys, *more] for keys, more in zip(probes, extra, strict=True)]
        flat = [key for keys in probes for key in keys]
        answers = iter(index.query_batch(flat) if flat else ())
        results = []
        for keys in probes:
            ids: dict[int, None] = {}
            for _ in keys:
                ids.update(dict.fromkeys(next(answers).tolist()))
            results.append([Found(entry_id, 0) for entry_id in ids])
        return results

    @classmethod
    def verify(cls, query: str, stored: Iterable[tuple[int, str]], threshold: int) -> Iterator[Found]:
        """Of the candidates ``(id, stored value)`` the index proposed for ``query``, those that
        match within ``threshold``. Only types whose values are longer than a key need it."""
        for stored_id, value in stored:
            comparison = cls.compare(query, value, threshold)
            if comparison.match:
                yield Found(stored_id, comparison.distance)
