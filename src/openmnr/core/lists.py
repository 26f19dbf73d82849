"""Hash-list files: ThreatExchange's local file format, CSV and our JSON Lines, read and written.

Which signal types a list may hold, how their values look and which formats can carry them comes
from the signal registry (``openmnr.core.signals``): a new signal type needs no change here.

Formats (the keys of ``READERS`` and ``WRITERS``):

- ``local``: ThreatExchange's local file format, as its ``LocalFileSignalExchangeAPI`` reads it (the
  ``local_file`` collaboration) and appends to it (``report_opinion``): one ``<signal_type> <value>``
  per line. A collaboration configured with a ``signal_type`` reads bare values, one per line, such
  as ThreatExchange's haystack and needles test lists: pass ``signal_type=`` to read those. Only
  signal types with a ``local_name`` (ThreatExchange's name for them) are carried: ThreatExchange
  knows MD5 and SHA-256 only as ``video_md5`` and ``video_sha256`` (the digest of a file is the
  same whatever it holds), so those names are written for ``md5`` and ``sha256`` and both
  spellings are read. The format carries no quality, classification or source, and no ``url``
  entries: ThreatExchange's ``url`` is the URL itself, ours its SHA-256.
- ``csv``: a header row, then one entry per row. ``signal_type`` and ``value`` are required (the
  ``value`` column may be called ``signal_str``, as in ThreatExchange's ``dataset --csv`` output);
  ``quality``, ``classification`` and ``source`` are optional; other columns are ignored.
- ``json``: JSON Lines, one object per line, for example
  ``{"signal_type": "pdq", "value": "…", "quality": 94, "classification": "…", "source": "…"}``;
  only ``signal_type`` and ``value`` are required and no other keys are allowed. Lines rather than
  one document so that a million-entry list streams in constant memory and an error has a line.
  Only this format carries signal types whose values are longer than a key (``digits`` is None:
  ``vpdq``, one video per record): the ``frames`` key holds the whole value (for vPDQ the
  ``frame,quality,pdq,timestamp`` lines) and ``value``, optional on reading, is its identity, the
  SHA-256 of its canonical form. The local format and CSV refuse such records with
  ``UnknownSignalType``: a frame list does not fit on one line or in one cell.

Readers take any iterable of text lines (an open text file; for CSV open it with ``newline=""``)
and yield ``HashRecord``s one at a time. Blank lines are skipped. The first bad line raises a
``SignalError`` (from ``openmnr.core.signals``) whose ``line`` attribute is its 1-based line
number: ``MalformedLine`` or ``InvalidValue`` (both ``HashListError``) or the registry's
``UnknownSignalType``. Messages never contain hash values, since hash lists are sensitive.
Writers take records and an open text file, and return how many records they wrote.

Values are checked and normalised (lower case) by their signal type's ``validate``.
"""

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TextIO

from openmnr.core import signals
from openmnr.core.signals import SignalError, SignalType, UnknownSignalType

#: Longest classification or source text, and longest line, accepted.
MAX_TEXT = 200
MAX_LINE = 4096
CSV_COLUMNS = ("signal_type", "value", "quality", "classification", "source")
JSON_KEYS = (*CSV_COLUMNS, "frames")
#: Longest JSON line: a record with the longest value of any signal type whose values are longer
#: than a key (each newline escaped as two characters).
MAX_JSON_LINE = MAX_LINE + max((cls.max_length or 0) for cls in signals.SIGNAL_TYPES.values()) * 11 // 10
_FORMULA_START = tuple("=+-@\t\r")

__all__ = [
    "HashListError",
    "HashRecord",
    "InvalidValue",
    "MalformedLine",
    "READERS",
    "UnknownSignalType",
    "WRITERS",
]


class HashListError(SignalError):
    """A hash list cannot be read or written. ``line`` is the 1-based line number, when known."""


class MalformedLine(HashListError):
    """A line does not have the shape of its format (fields, header, quoting, JSON)."""


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
        signal = signals.get(self.signal_type)
        if signal.digits is None:
            self._check_whole_value(signal)
        elif self.frames is not None:
            raise InvalidValue(f"only {', '.join(_long_valued())} records carry frames")
        elif not isinstance(self.value, str):
            raise InvalidValue(f"a {signal.name} value is {signal.digits} hexadecimal digits")
        else:
            try:
                object.__setattr__(self, "value", signal.validate(self.value))
            except SignalError as error:
                raise InvalidValue(error.reason) from None
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

    def _check_whole_value(self, signal: type[SignalType]) -> None:
        """For a value longer than a key: put ``frames`` (the whole value) in canonical form and
        set (or check) ``value``, its identity."""
        name = signal.name
        if not isinstance(self.frames, str) or not self.frames.strip():
            raise InvalidValue(f"a {name} record carries its frames (the whole value)")
        if signal.max_length is not None and len(self.frames) > signal.max_length:
            raise InvalidValue(f"{name} frames are at most {signal.max_length:,} characters")
        try:
            frames = signal.validate(self.frames)
        except SignalError as error:
            raise InvalidValue(error.reason) from None
        identity = signal.identity(frames)
        if self.value is not None and self.value != "" and str(self.value).lower() != identity:
            raise InvalidValue(f"a {name} value is the SHA-256 of its canonical frames text")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "value", identity)


def _long_valued() -> list[str]:
    """Signal types whose values are longer than a key: only JSON Lines carries them."""
    return [name for name, cls in signals.SIGNAL_TYPES.items() if cls.digits is None]


def _local_names() -> dict[str, str]:
    """Our signal type -> its name in ThreatExchange's local file format."""
    return {name: cls.local_name for name, cls in signals.SIGNAL_TYPES.items() if cls.local_name}


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
    except SignalError as error:
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
    local_names = _local_names()
    known = {theirs: ours for ours, theirs in local_names.items()} | {ours: ours for ours in local_names}
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
    local_names = _local_names()
    count = 0
    for count, record in enumerate(records, 1):
        name = local_names.get(record.signal_type)
        if name is None:
            raise UnknownSignalType(
                f"record {count}: the local file format cannot carry {record.signal_type}"
            )
        file.write(f"{name} {record.value}\n")
    return count


def read_csv(lines: Iterable[str]) -> Iterator[HashRecord]:
    """Records from a CSV list with a header row (see the module docstring for the columns)."""
    reader = csv.reader(_without_bom(lines), strict=True)
    long_valued = _long_valued()
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
            if fields.get("signal_type") in long_valued:
                raise UnknownSignalType(
                    f"CSV cannot carry {fields['signal_type']}: use JSON Lines", reader.line_num
                )
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
    long_valued = _long_valued()
    count = 0
    for record in records:
        if record.signal_type in long_valued:
            raise UnknownSignalType(
                f"record {count + 1}: CSV cannot carry {record.signal_type}: use JSON Lines"
            )
        fields = asdict(record)
        writer.writerow(["" if fields[name] is None else fields[name] for name in CSV_COLUMNS])
        count += 1
    return count


def read_json(lines: Iterable[str]) -> Iterator[HashRecord]:
    """Records from a JSON Lines list (see the module docstring)."""
    long_valued = _long_valued()
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
        if entry.get("signal_type") in long_valued:
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
