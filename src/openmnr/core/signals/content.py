"""Every signal of a piece of content, from one look at it: ``hash_content`` and ``hash_path``.

Which signals a file gets is decided here and only here. ``sniff`` names the content from its first
bytes (a picture or a video; the one place that tells them apart), and every registered signal type
that applies to that content hashes it: today PDQ, MD5 and SHA-256 for a picture, vPDQ, MD5 and
SHA-256 for a video. Callers name what they want with ``only`` (the default is everything), never
by branching on the content themselves.

Work that decodes the content (PDQ, vPDQ) runs, when ``Limits.isolate`` asks, in one child process
with memory and time limits for all of them together; digests of the bytes stay in the caller's
process. When decoding fails the digests are still returned: ``Hashes.error`` says what failed, and
``Hashes.raise_for_error()`` turns that into the exception for callers that want all or nothing.
"""

from collections.abc import Collection, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from openmnr.core import media
from openmnr.core.signals.base import LIMITS, ContentType, HashValue, Limits, SignalType
from openmnr.core.signals.registry import SIGNAL_TYPES, for_content, get

# ISO media files (MP4's container) whose brand says they hold a still picture (HEIC, AVIF).
_STILL_BRANDS = frozenset({b"avif", b"avis", b"heic", b"heix", b"mif1", b"msf1"})
_HEAD = 32


def sniff(head: bytes) -> ContentType | None:
    """The content that the first bytes show: a picture, a video, or None when neither.

    A quick look at magic numbers (``media.sniff``): JPEG, PNG, GIF, WebP and BMP are pictures;
    MP4/MOV/3GP, Matroska/WebM and AVI are videos. HEIC and AVIF share MP4's container, and their
    brand says picture: they are pictures (which the picture decoder refuses), never videos.
    """
    kind = media.sniff(head)
    if kind == "video" and head[4:8] == b"ftyp" and head[8:12] in _STILL_BRANDS:
        return ContentType.PHOTO
    return {"photo": ContentType.PHOTO, "video": ContentType.VIDEO}.get(kind)


class Hashes(Mapping[str, HashValue]):
    """The signals of one piece of content, by signal type name in registry order.

    ``content_type`` is what the content is; ``error`` is the ``media.MediaError`` that kept a
    signal from being computed (the mapping holds the others), or None. Its repr names the signal
    types only: hash values are sensitive and never end up in a log.
    """

    __slots__ = ("_values", "content_type", "error")

    def __init__(
        self,
        content_type: ContentType,
        values: Mapping[str, HashValue],
        error: media.MediaError | None = None,
    ):
        self.content_type = content_type
        self.error = error
        self._values = dict(values)

    def __getitem__(self, name: str) -> HashValue:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        failed = f", error={type(self.error).__name__}" if self.error is not None else ""
        return f"Hashes({self.content_type}: {', '.join(self._values) or 'none'}{failed})"

    def raise_for_error(self) -> "Hashes":
        """Raise ``error`` if a signal could not be computed; else return these hashes."""
        if self.error is not None:
            raise self.error
        return self

    def texts(self) -> dict[str, str]:
        """{signal type name: value}, for matching."""
        return {name: hashed.value for name, hashed in self._values.items()}


def hash_content(
    data: bytes,
    *,
    limits: Limits = LIMITS,
    only: Collection[str] | None = None,
    content_type: ContentType | None = None,
) -> Hashes:
    """Every applicable signal of content held in memory (restricted to the names in ``only``).

    The content is sniffed from its first bytes unless the caller says what it is
    (``content_type``, for a URL given as UTF-8 bytes). Raises ``media.CorruptMedia`` for empty
    content, ``media.UnsupportedFormat`` for content that is neither a picture nor a video,
    ``media.TooLarge`` above ``limits.max_bytes`` and ``UnknownSignalType`` for a name in ``only``
    that no signal type has; a signal that fails to decode is reported in ``Hashes.error``.
    """
    data = bytes(data)
    if len(data) > limits.max_bytes:
        raise media.TooLarge(f"content is larger than the {limits.max_bytes / 2**20:g} MiB limit")
    content = content_type or _content_of(data[:_HEAD])
    return _hash(content, _applicable(content, only), data, limits)


def hash_path(path: str | Path, *, limits: Limits = LIMITS, only: Collection[str] | None = None) -> Hashes:
    """``hash_content`` for a file. A file within ``limits.max_bytes`` is read once and hashed in
    memory; a larger one (a long video) is streamed by each signal type, and a picture that large
    is refused by the picture decoder while its digests are still computed."""
    path = Path(path)
    with path.open("rb") as file:
        head = file.read(_HEAD)
    content = _content_of(head)
    types = _applicable(content, only)
    if path.stat().st_size <= limits.max_bytes:
        return _hash(content, types, media.read_bytes(path, limits.max_bytes), limits)
    return _hash(content, types, path, limits)


def _content_of(head: bytes) -> ContentType:
    if not head:
        raise media.CorruptMedia("the file is empty")
    content = sniff(head)
    if content is None:
        raise media.UnsupportedFormat(media.unsupported_reason(head))
    return content


def _applicable(content: ContentType, only: Collection[str] | None) -> list[type[SignalType]]:
    wanted = None if only is None else {get(name).name for name in only}
    return [cls for cls in for_content(content) if wanted is None or cls.name in wanted]


def _hash(
    content: ContentType, types: list[type[SignalType]], source: bytes | Path, limits: Limits
) -> Hashes:
    values: dict[str, HashValue] = {}
    error = None
    isolated = [cls for cls in types if limits.isolate and cls.decodes]
    if isolated:
        timeout = max(cls.isolated_timeout for cls in isolated)
        inside = replace(limits, isolate=False)
        try:
            values.update(media.run_isolated(_hash_each, isolated, source, inside, timeout=timeout))
        except media.MediaError as exc:
            error = exc
    for cls in types:
        if cls in isolated:
            continue
        try:
            values[cls.name] = _hash_one(cls, source, limits)
        except media.MediaError as exc:
            error = error or exc
    return Hashes(content, {name: values[name] for name in SIGNAL_TYPES if name in values}, error)


def _hash_one(cls: type[SignalType], source: bytes | Path, limits: Limits) -> HashValue:
    if isinstance(source, Path):
        return cls.hash_file(source, limits=limits)
    return cls.hash_bytes(source, limits=limits)


def _hash_each(types: list[type[SignalType]], source: bytes | Path, limits: Limits) -> dict[str, HashValue]:
    """In an isolated child: every type's value, or the first error."""
    return {cls.name: _hash_one(cls, source, limits) for cls in types}
