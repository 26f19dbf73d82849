"""The vocabulary's terms, lists, flags and schemes, and the errors of ``openmnr.core.vocabulary``
(see the package docstring for the rules)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The CyberTipline schema's fileAnnotations elements (cyber_tipline.xsd, complexType fileAnnotations).
FILE_ANNOTATIONS = frozenset(
    {
        "animeDrawingVirtualHentai",
        "potentialMeme",
        "viral",
        "possibleSelfProduction",
        "physicalHarm",
        "violenceGore",
        "bestiality",
        "liveStreaming",
        "infant",
        "generativeAi",
    }
)
# The schema's fileClassification: an age letter and an act digit.
INDUSTRY_CLASSES = frozenset({"A1", "A2", "B1", "B2"})


class VocabularyError(Exception):
    """Base of every error raised by ``openmnr.core.vocabulary``."""


class VocabularyNotFoundError(VocabularyError):
    """No vocabulary file exists for the requested version id or path."""


class VocabularyFormatError(VocabularyError):
    """The file is not JSON, or a field is missing, unexpected or has the wrong type or value."""


class DuplicateTermError(VocabularyError):
    """Two terms of one list share a code."""


class AmbiguousMappingError(VocabularyError):
    """Several terms claim one external value and more than one of them is marked primary."""


class MissingNoteError(VocabularyError):
    """A term or list has no external value and no note saying why."""


class UnknownReferenceError(VocabularyError):
    """The file refers to something that does not exist (a flag, a scheme, a CyberTipline element)."""


class UnknownTermError(VocabularyError, LookupError):
    """A caller asked for a code, list, flag or scheme the vocabulary does not have."""


class UnknownExternalIdError(VocabularyError, LookupError):
    """An ICCAM id or CyberTipline value that no term maps to: an error for the one record carrying it."""


@dataclass(frozen=True)
class Term:
    """One value of a list, with its external values (``None``: none exists or none is known)."""

    code: str
    label: str
    description: str = ""
    note: str = ""
    iccam_v3: int | None = None
    iccam_v3_name: str = ""
    iccam_v3_primary: bool = False
    iccam_v3_reason: bool = False  # actions: ICCAM wants a reason with this one
    cybertipline: str | None = None
    cybertipline_primary: bool = False
    cybertipline_annotation: str | None = None
    baseline: bool = False  # age groups: inside INTERPOL's baseline by default


def _read_back(terms: Iterable[Term], attribute: str, value: Any) -> tuple[bool, str | None]:
    """(known?, code) of the term an external value reads back as (see the module docstring)."""
    claiming = [t for t in terms if getattr(t, attribute) == value]
    if not claiming:
        return False, None
    if len(claiming) == 1:
        return True, claiming[0].code
    primary = [t for t in claiming if getattr(t, f"{attribute}_primary")]
    return True, primary[0].code if primary else None


@dataclass(frozen=True)
class TermList:
    """A closed list of terms (assessment, age group, ...) and the external fields it maps to."""

    name: str
    label: str
    applies_to: str  # "item" or "case"
    multiple: bool
    terms: tuple[Term, ...]
    iccam_v3_field: str | None = None
    iccam_v3_lookup: str | None = None  # the ICCAM list that holds the ids (rest/...), if there is one
    cybertipline_element: str | None = None
    cybertipline_note: str = ""

    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def choices(self) -> list[tuple[str, str]]:
        return [(t.code, t.label) for t in self.terms]

    def term(self, code: str) -> Term:
        for term in self.terms:
            if term.code == code:
                return term
        raise UnknownTermError(f"{self.name} has no term {code!r}")

    def to_iccam(self, code: str) -> int | None:
        """The ICCAM API 3 id of a term; ``None`` where ICCAM has none or it is not known."""
        return self.term(code).iccam_v3

    def from_iccam(self, value: Any) -> str:
        """The term an ICCAM id reads as; `UnknownExternalIdError` for an id no term has."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise UnknownExternalIdError(f"ICCAM {self.iccam_v3_field}: {value!r} is not an id")
        known, code = _read_back(self.terms, "iccam_v3", value)
        if code is None:
            raise UnknownExternalIdError(f"ICCAM {self.iccam_v3_field} {value} is not in vocabulary")
        return code

    def to_cybertipline(self, code: str) -> str | None:
        return self.term(code).cybertipline

    def from_cybertipline(self, value: str) -> str | None:
        """The term a CyberTipline value reads as, ``None`` when the value cannot tell which."""
        known, code = _read_back(self.terms, "cybertipline", value)
        if not known:
            raise UnknownExternalIdError(f"CyberTipline {self.cybertipline_element} {value!r} is unknown")
        return code


@dataclass(frozen=True)
class Flag:
    """A yes/no property of an item. ``implies``: flags that are set whenever this one is (an
    AI-generated item is virtual). ``iccam_v3_via``: the flag whose ICCAM field carries this one."""

    code: str
    label: str
    description: str = ""
    note: str = ""
    iccam_v3_field: str | None = None
    iccam_v3_via: str | None = None
    cybertipline_annotation: str | None = None
    implies: tuple[str, ...] = ()


@dataclass(frozen=True)
class CategoryScheme:
    """A national category scheme, most severe first."""

    name: str
    label: str
    terms: tuple[Term, ...]

    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def term(self, code: str) -> Term:
        for term in self.terms:
            if term.code == code:
                return term
        raise UnknownTermError(f"category scheme {self.name} has no category {code!r}")

    def to_cybertipline(self, code: str) -> str | None:
        return self.term(code).cybertipline

    def from_cybertipline(self, digit: str) -> str | None:
        known, code = _read_back(self.terms, "cybertipline", digit)
        if not known:
            raise UnknownExternalIdError(f"industry classification digit {digit!r} is unknown")
        return code


@dataclass(frozen=True)
class CyberTiplineReading:
    """What a CyberTipline file's annotations and industry class say in our terms."""

    flags: frozenset[str]
    age_group: str | None
    category: str | None


@dataclass(frozen=True)
class Vocabulary:
    """One version of the vocabulary. Immutable, so it is loaded once and shared."""

    version: str
    title: str
    sources: Mapping[str, str]
    lists: Mapping[str, TermList]
    flags: tuple[Flag, ...]
    iccam_v3_flag_values: Mapping[bool, int]
    default_scheme: str
    schemes: Mapping[str, CategoryScheme]

    def list(self, name: str) -> TermList:
        try:
            return self.lists[name]
        except KeyError:
            raise UnknownTermError(f"the vocabulary has no list {name!r}") from None

    def __getattr__(self, name: str) -> TermList:
        # vocabulary.assessment, vocabulary.age_group, ... read the lists.
        lists = self.__dict__.get("lists", {})
        if name in lists:
            return lists[name]
        raise AttributeError(name)

    def flag(self, code: str) -> Flag:
        for flag in self.flags:
            if flag.code == code:
                return flag
        raise UnknownTermError(f"the vocabulary has no flag {code!r}")

    def scheme(self, name: str | None = None) -> CategoryScheme:
        """The category scheme `name`, or the default (the UK's A/B/C)."""
        name = name or self.default_scheme
        try:
            return self.schemes[name]
        except KeyError:
            raise UnknownTermError(f"the vocabulary has no category scheme {name!r}") from None

    def baseline_age_groups(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.list("age_group").terms if t.baseline)

    def close_flags(self, flags: Iterable[str]) -> frozenset[str]:
        """The flags with everything they imply (ai_generated brings virtual)."""
        result: set[str] = set()
        waiting = list(flags)
        while waiting:
            code = waiting.pop()
            if code not in result:
                result.add(code)
                waiting.extend(self.flag(code).implies)
        return frozenset(result)

    # --- ICCAM ------------------------------------------------------------------------------

    def flags_to_iccam(self, flags: Iterable[str]) -> dict[str, int]:
        """Every ICCAM flag field with 0 or 1; a flag without its own field sets the one it rides on."""
        closed = self.close_flags(flags)
        values = {f.iccam_v3_field: self.iccam_v3_flag_values[False] for f in self.flags if f.iccam_v3_field}
        for flag in self.flags:
            if flag.code not in closed:
                continue
            carrier = (
                flag if flag.iccam_v3_field else (self.flag(flag.iccam_v3_via) if flag.iccam_v3_via else None)
            )
            if carrier is not None:
                values[carrier.iccam_v3_field] = self.iccam_v3_flag_values[True]
        return values

    def flags_from_iccam(self, fields: Mapping[str, Any]) -> frozenset[str]:
        """The flags an ICCAM assessment sets. A missing field is "no"; anything but 0/1 (or a JSON
        boolean) is an `UnknownExternalIdError`."""
        meaning = {value: state for state, value in self.iccam_v3_flag_values.items()}
        found = set()
        for flag in self.flags:
            if not flag.iccam_v3_field or fields.get(flag.iccam_v3_field) is None:
                continue
            value = fields[flag.iccam_v3_field]
            if isinstance(value, bool):
                value = self.iccam_v3_flag_values[value]
            if not isinstance(value, int) or value not in meaning:
                raise UnknownExternalIdError(f"ICCAM {flag.iccam_v3_field} {value!r} is neither 0 nor 1")
            if meaning[value]:
                found.add(flag.code)
        return self.close_flags(found)

    # --- CyberTipline -----------------------------------------------------------------------

    def file_annotations(self, *, age_group: str = "", flags: Iterable[str] = ()) -> frozenset[str]:
        """The fileAnnotations elements to set for an item. A flag implied by a more specific one
        that is set gives way to it (an AI-generated item is tagged generativeAi, not anime/drawing)."""
        closed = self.close_flags(flags)
        implied = {code for f in closed for code in self.flag(f).implies}
        found = {self.flag(f).cybertipline_annotation for f in closed - implied}
        if age_group:
            found.add(self.list("age_group").term(age_group).cybertipline_annotation)
        return frozenset(a for a in found if a)

    def industry_classification(self, age_group: str, category: str, scheme: str | None = None) -> str | None:
        """The industry class (A1, A2, B1, B2) of an item, or ``None`` when its age group or
        category has no place on the industry scale."""
        if not age_group or not category:
            return None
        letter = self.list("age_group").to_cybertipline(age_group)
        digit = self.scheme(scheme).to_cybertipline(category)
        return f"{letter}{digit}" if letter and digit else None

    def from_cybertipline(
        self, annotations: Iterable[str] = (), industry: str | None = None, scheme: str | None = None
    ) -> CyberTiplineReading:
        """Read a CyberTipline file's annotations and industry class back into our terms."""
        annotations = set(annotations)
        unknown = annotations - FILE_ANNOTATIONS
        if unknown:
            raise UnknownExternalIdError(f"unknown CyberTipline file annotation {sorted(unknown)[0]!r}")
        flags = {f.code for f in self.flags if f.cybertipline_annotation in annotations}
        age_group = category = None
        if industry:
            if industry not in INDUSTRY_CLASSES:
                raise UnknownExternalIdError(f"unknown industry classification {industry!r}")
            age_group = self.list("age_group").from_cybertipline(industry[0])
            category = self.scheme(scheme).from_cybertipline(industry[1])
        by_annotation = [
            t.code for t in self.list("age_group").terms if t.cybertipline_annotation in annotations
        ]
        if by_annotation:
            age_group = by_annotation[0]  # "infant" is more precise than the letter A
        return CyberTiplineReading(self.close_flags(flags), age_group, category)
