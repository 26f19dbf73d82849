"""The assessment vocabulary as data, with its mapping to ICCAM API 3 ids and to CyberTipline terms.

What an analyst records about an item or a case (assessment, apparent age group, gender, content
type, the flags, the national category; site type, commerciality and payment methods of the site)
must mean the same thing in OpenMNR, in INHOPE's ICCAM and in NCMEC's CyberTipline, or the exchange
and the published statistics drift apart. So the terms and both mappings live in one versioned JSON
file beside this module (``assessment-1.json``): a new ICCAM id or a new national scheme is a new file
version, not a code change, and the hotline, the ICCAM exchange and industry reports all read it.

The file is validated completely when it is loaded, and a bad file is refused with a typed error (a
subclass of :class:`VocabularyError`) that names the place: a missing or mistyped field, a code used
twice, an external id that two terms claim without saying which one it reads back as, an external
id left empty without a note saying why. The last rule is what keeps the file honest: where an ICCAM
id is not known from a reliable source the file says so, and nobody guesses.

Mapping both ways is asymmetric by nature. Writing is total: every term either has an external value
or ``None`` (and its note explains). Reading back is partial: an external value two terms share
reads as the term marked ``*_primary`` (ICCAM's one "media" content type reads as image), or as
``None`` when none is marked (the industry class 1 is a sex act of category A or B: no category can
be read from it). A value nobody in the file knows raises :class:`UnknownExternalIdError`, which the
exchange treats as an error for that one item.
"""

import json
import re
from functools import cache
from pathlib import Path

from .parse import FORMAT, VERSION_ID, parse_vocabulary
from .terms import (
    FILE_ANNOTATIONS,
    INDUSTRY_CLASSES,
    AmbiguousMappingError,
    CategoryScheme,
    CyberTiplineReading,
    DuplicateTermError,
    Flag,
    MissingNoteError,
    Term,
    TermList,
    UnknownExternalIdError,
    UnknownReferenceError,
    UnknownTermError,
    Vocabulary,
    VocabularyError,
    VocabularyFormatError,
    VocabularyNotFoundError,
)

DEFAULT_VERSION = "assessment-1"
VOCABULARY_DIR = Path(__file__).resolve().parent


def available_versions(folder: Path | None = None) -> list[str]:
    """The version ids of the vocabulary files in ``folder`` (default: those shipped with OpenMNR)."""
    folder = VOCABULARY_DIR if folder is None else Path(folder)
    return sorted(p.stem for p in folder.glob("*.json") if re.match(VERSION_ID, p.stem))


@cache
def vocabulary(version: str = DEFAULT_VERSION) -> "Vocabulary":
    """The shipped vocabulary `version`, loaded and validated once per process."""
    return load_vocabulary(version)


def load_vocabulary(version: str = DEFAULT_VERSION, *, folder: Path | None = None) -> Vocabulary:
    """Load the vocabulary ``version`` from ``<folder>/<version>.json`` (default: beside this module)."""
    if not isinstance(version, str) or not re.match(VERSION_ID, version):
        raise VocabularyNotFoundError(f"{version!r} is not a vocabulary version id")
    folder = VOCABULARY_DIR if folder is None else Path(folder)
    loaded = load_vocabulary_file(folder / f"{version}.json")
    if loaded.version != version:
        raise VocabularyFormatError(f"{version}.json declares version {loaded.version!r}, not {version!r}")
    return loaded


def load_vocabulary_file(path: Path | str) -> Vocabulary:
    """Load and validate a vocabulary from a JSON file anywhere on disk."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VocabularyNotFoundError(f"no vocabulary file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyFormatError(f"{path}: cannot read the file ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocabularyFormatError(f"{path}: not valid JSON ({exc})") from exc
    return parse_vocabulary(data)


__all__ = [
    "DEFAULT_VERSION",
    "FILE_ANNOTATIONS",
    "FORMAT",
    "INDUSTRY_CLASSES",
    "AmbiguousMappingError",
    "CategoryScheme",
    "CyberTiplineReading",
    "DuplicateTermError",
    "Flag",
    "MissingNoteError",
    "Term",
    "TermList",
    "UnknownExternalIdError",
    "UnknownReferenceError",
    "UnknownTermError",
    "Vocabulary",
    "VocabularyError",
    "VocabularyFormatError",
    "VocabularyNotFoundError",
    "available_versions",
    "load_vocabulary",
    "load_vocabulary_file",
    "parse_vocabulary",
    "vocabulary",
]
