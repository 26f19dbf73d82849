"""Hash-list files: ThreatExchange's local file format, CSV and our JSON Lines, read and written.

Formats (the keys of ``READERS`` and ``WRITERS``):

- ``local``: ThreatExchange's local file format, as its ``LocalFileSignalExchangeAPI`` reads it (the
  ``local_file`` collaboration) and appends to it (``report_opinion``): one ``<signal_type> <value>``
  per line. A collaboration configured with a ``signal_type`` reads bare values, one per line, such
  as ThreatExchange's haystack and needles test lists: pass ``signal_type=`` to read those.
  ThreatExchange knows MD5 and SHA-256 only as ``video_md5`` and ``video_sha256`` (the digest of a
  file is the same whatever it holds), so those names are written for ``md5`` and ``sha256`` and
  both spellings are read. The format carries no quality, classification or source, and no ``url``
  entries: ThreatExchange's ``url`` is the URL itself, ours its SHA-256.
- ``csv``: a header row, then one entry per row. ``signal_type`` and ``value`` are required (the
  ``value`` column may be called ``signal_str``, as in ThreatExchange's ``dataset --csv`` output);
  ``quality``, ``classification`` and ``source`` are optional; other columns are ignored.
- ``json``: JSON Lines, one object per line, for example
  ``{"signal_type": "pdq", "value": "…", "quality": 94, "classification": "…", "source": "…"}``;
  only ``signal_type`` and ``value`` are required and no other keys are allowed. Lines rather than
  one document so that a million-entry list streams in constant memory and an error has a line.
  Only this format carries ``vpdq`` (one video per record): its ``frames`` key holds the vPDQ text
  (``frame,quality,pdq,timestamp`` lines) and ``value``, optional on reading, is the SHA-256 of the
  canonical form of that text. The local format and CSV refuse vpdq records with
  ``UnknownSignalType``: a frame list does not fit on one line or in one cell.

Readers take any iterable of text lines (an open text file; for CSV open it with ``newline=""``)
and yield ``HashRecord``s one at a time. Blank lines are skipped. The first bad line raises a
``HashListError`` subclass whose ``line`` attribute is its 1-based line number; messages never
contain hash values, since hash lists are sensitive. Writers take records and an open text file,
and return how many records they wrote.

Values are checked per signal type (``pdq``, ``md5``, ``sha256``, ``url``, ``vpdq``: hex digests of
64, 32, 64, 64 and 64 digits) and stored in lower case.
"""

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TextIO

#: Signal types a list may hold, with the number of hex digits of their values.
HEX_DIGITS = {"pdq": 64, "md5": 32, "sha256": 64, "url": 64, "vpdq": 64}
#: Our signal type -> its name in ThreatExchange's local file format.
LOCAL_NAMES = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256"}
#: Longest classification or source text, and longest line, accepted.
MAX_TEXT = 200
MAX_LINE = 4096
CSV_COLUMNS = ("signal_type", "value", "quality", "classification", "source")
JSON_KEYS = (*CSV_COLUMNS, "frames")
#: Signal types only JSON Lines carries (their records have frames).
FRAMED = "vpdq"
#: Longest frames text accepted: about 10 hours of video at one hash per second, or 13 minutes of
#: every frame at 30 per second (a line is about 80 characters).
MAX_FRAMES_TEXT = 3_000_000
#: Longest JSON line: a record with the longest frames text (each newline escaped as two characters).
MAX_JSON_LINE = MAX_LINE + MAX_FRAMES_TEXT * 11 // 10
_FORMULA_START = tuple("=+-@\t\r")


class HashListError(ValueError):
    """A hash list cannot be read or written. ``line`` is the 1-based line number, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.reason = message
        self.line = line


class MalformedLine(HashListError):
    """A line does not have the shape of its format (fields, header, quoting, JSON)."""


class UnknownSignalType(HashListError):
    """A signal type this format or OpenMNR does not carry."""


class InvalidValue(HashListError):
    """A value, quality, classification or source is not valid."""


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One entry of a hash list. Constructing one checks it and lower-cases ``value``."""

    signal_type: str
    value: str | None
    quality: int | None = None
    classification: str | None = None
    source: str | None = None
    frames: str | None = None

    def __post_init__(self):
        digits = HEX_DIGITS.get(self.signal_type) if isinstance(self.signal_type, str) else None
        if digits is None:
            raise UnknownSignalType(f"unknown signal type (known: {', '.join(HEX_DIGITS)})")
        if self.signal_type == FRAMED:
            self._check_frames()
        elif self.frames is not None:
            raise InvalidValue(f"only {FRAMED} records carry frames")
        if not isinstance(self.value, str) or not re.fullmatch(rf"[0-9a-fA-F]{{{digits}}}", self.value):
            raise InvalidValue(f"a {self.signal_type} value is {digits} hexadecimal digits")
        object.__setattr__(self, "value", self.value.lower())
        if self.quality is not None and (
            not isinstance(self.quality, int)
            or isinstance(self.quality, bool)
            or not 0 <= self.quality <= 100
        ):
            raise InvalidValue("quality is a whole number from 0 to 100")
        for name in ("classification", "source"):
            text = getattr(self, name)
            if text is not None and not _plain_text(text):
                raise InvalidValue(
                    f"{name} is text of at most {MAX_TEXT} characters, without control characters, "
                    "not starting with = + - or @"
                )

    def _check_frames(self) -> None:
        """Put the frames in canonical form and set (or check) the value, their SHA-256."""
        from openmnr.core.signals import vpdq  # PyAV and numpy, only for lists that need them

        if not isinstance(self.frames, str) or not self.frames.strip():
            raise InvalidValue(f"a {FRAMED} record carries its frames (frame,quality,pdq,timestamp lines)")
        if len(self.frames) > MAX_FRAMES_TEXT:
            raise InvalidValue(f"{FRAMED} frames are at most {MAX_FRAMES_TEXT:,} characters")
        try:
            frames = vpdq.VpdqSignal.validate(self.frames)
        except ValueError as error:
            raise InvalidValue(f"{FRAMED} frames: {error}") from None
        identity = frames_identity(frames)
        if self.value is not None and self.value != "" and str(self.value).lower() != identity:
            raise InvalidValue(f"a {FRAMED} value is the SHA-256 of its canonical frames text")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "value", identity)


def frames_identity(canonical_frames: str) -> str:
    """The value that stands for a vPDQ entry: the SHA-256 hex of its canonical frames text."""
    return hashlib.sha256(canonical_frames.encode()).hexdigest()


def _plain_text(text) -> bool:
    # Refusing a leading = + - @ keeps exported CSV from being run as a formula by a spreadsheet.
    return (
        isinstance(text, str)
        and 0 < len(text) <= MAX_TEXT
        and text.isprintable()
        and not text.startswith(_FORMULA_START)
    )


def _record(
    line: int, signal_type, value, quality=None, classification=None, source=None, frames=None
) -> HashRecord:
    try:
        return HashRecord(signal_type, value, quality, classification, source, frames)
    except HashListError as error:
        raise type(error)(error.reason, line) from None


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    """The lines, less the byte-order mark that some editors put at the start of a UTF-8 file."""
    lines = iter(lines)
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from lines


def _lines(lines: Iterable[str], max_line: int = MAX_LINE) -> Iterator[tuple[int, str]]:
    """(number, stripped text) of each non-blank line."""
    for number, line in enumerate(_without_bom(lines), 1):
        if len(line) > max_line:
            raise MalformedLine(f"line longer than {max_line} characters", number)
        text = line.strip()
        if text:
            yield number, text


def read_local(lines: Iterable[str], signal_type: str | None = None) -> Iterator[HashRecord]:
    """Records from ThreatExchange's local file format; with ``signal_type``, bare values."""
    known = {theirs: ours for ours, theirs in LOCAL_NAMES.items()} | {ours: ours for ours in LOCAL_NAMES}
    for number, text in _lines(lines):
        fields = text.split()
        if signal_type is not None:
            fields = [signal_type, *fields]
        if len(fields) != 2:
            expected = "one value" if signal_type is not None else "a signal type and a value"
            raise MalformedLine(f"expected {expected} separated by a space", number)
        if fields[0] not in known:
            raise UnknownSignalType(
                f"signal type not carried in this format (known: {', '.join(known)})", number
            )
        yield _record(number, known[fields[0]], fields[1])


def write_local(records: Iterable[HashRecord], file: TextIO) -> int:
    count = 0
    for count, record in enumerate(records, 1):
        name = LOCAL_NAMES.get(record.signal_type)
        if name is None:
            raise UnknownSignalType(
                f"record {count}: the local file format cannot carry {record.signal_type}"
            )
        file.write(f"{name} {record.value}\n")
    return count


def read_csv(lines: Iterable[str]) -> Iterator[HashRecord]:
    """Records from a CSV list with a header row (see the module docstring for the columns)."""
    reader = csv.reader(_without_bom(lines), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        header = ["value" if name == "signal_str" else name for name in header]
        if not {"signal_type", "value"} <= set(header):
            raise MalformedLine("the header must name the columns signal_type and value", 1)
        columns = {name: header.index(name) for name in CSV_COLUMNS if name in header}
        for row in reader:
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                raise MalformedLine(f"expected {len(header)} fields, found {len(row)}", reader.line_num)
            fields = {name: row[i].strip() or None for name, i in columns.items()}
            if fields.get("signal_type") == FRAMED:
                raise UnknownSignalType(f"CSV cannot carry {FRAMED}: use JSON Lines", reader.line_num)
            quality = fields.pop("quality", None)
            if quality is not None:
                if not quality.isdecimal():
                    raise InvalidValue("quality is a whole number from 0 to 100", reader.line_num)
                quality = int(quality)
            yield _record(reader.line_num, quality=quality, **fields)
    except csv.Error as error:
        raise MalformedLine(f"not valid CSV ({error})", reader.line_num) from None


def write_csv(records: Iterable[HashRecord], file: TextIO) -> int:
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        if record.signal_type == FRAMED:
            raise UnknownSignalType(f"record {count + 1}: CSV cannot carry {FRAMED}: use JSON Lines")
        fields = asdict(record)
        writer.writerow(["" if fields[name] is None else fields[name] for name in CSV_COLUMNS])
        count += 1
    return count


def read_json(lines: Iterable[str]) -> Iterator[HashRecord]:
    """Records from a JSON Lines list (see the module docstring)."""
    for number, text in _lines(lines, MAX_JSON_LINE):
        try:
            entry = json.loads(text)
        except ValueError:
            raise MalformedLine("not valid JSON", number) from None
        if not isinstance(entry, dict):
            raise MalformedLine("expected a JSON object", number)
        unknown = sorted(set(entry) - set(JSON_KEYS))
        if unknown:
            raise MalformedLine(f"unknown keys: {', '.join(unknown)}", number)
        if entry.get("signal_type") == FRAMED:
            entry.setdefault("value", None)
        if "signal_type" not in entry or "value" not in entry:
            raise MalformedLine("signal_type and value are required", number)
        yield _record(number, **entry)


def write_json(records: Iterable[HashRecord], file: TextIO) -> int:
    count = 0
    for record in records:
        entry = {name: value for name, value in asdict(record).items() if value is not None}
        file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        count += 1
    return count


READERS = {"local": read_local, "csv": read_csv, "json": read_json}
WRITERS = {"local": write_local, "csv": write_csv, "json": write_json}
