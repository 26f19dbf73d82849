"""Building a validated `Vocabulary` from the decoded JSON of a vocabulary file.

Strict on purpose: an unexpected key is refused (a typo such as ``iccam_v3_primay`` would otherwise
silently change how an id reads back), every list the platform relies on must be there, and the
cross-references (flags that imply flags, the default scheme, CyberTipline element names) must
resolve. The error says where: ``lists.age_group.terms[2].iccam_v3: expected int``.
"""

import re
from collections import Counter
from typing import Any

from .terms import (
    FILE_ANNOTATIONS,
    AmbiguousMappingError,
    CategoryScheme,
    DuplicateTermError,
    Flag,
    MissingNoteError,
    Term,
    TermList,
    UnknownReferenceError,
    Vocabulary,
    VocabularyFormatError,
)

FORMAT = 1
VERSION_ID = r"^[a-z0-9][a-z0-9_-]*$"
# The lists the hotline, the exchange and industry reports read; a file without one is refused.
REQUIRED_LISTS = (
    "assessment",
    "age_group",
    "gender",
    "content_type",
    "site_type",
    "commerciality",
    "payment_method",
    "action",
    "action_reason",
)
# Values each list's CyberTipline element can take (None: any string the list declares).
_CYBERTIPLINE_VALUES = {"industryClassification": {"A", "B"}}
_CATEGORY_DIGITS = {"1", "2"}

_TERM_KEYS = {
    "code": str,
    "label": str,
    "description": str,
    "note": str,
    "iccam_v3": (int, type(None)),
    "iccam_v3_name": str,
    "iccam_v3_primary": bool,
    "iccam_v3_reason": bool,
    "cybertipline": (str, type(None)),
    "cybertipline_primary": bool,
    "cybertipline_annotation": (str, type(None)),
    "baseline": bool,
}
_LIST_KEYS = {
    "label": str,
    "applies_to": str,
    "multiple": bool,
    "iccam_v3_field": (str, type(None)),
    "iccam_v3_lookup": (str, type(None)),
    "cybertipline_element": (str, type(None)),
    "cybertipline_note": str,
    "terms": list,
}
_FLAG_KEYS = {
    "code": str,
    "label": str,
    "description": str,
    "note": str,
    "iccam_v3_field": (str, type(None)),
    "iccam_v3_via": (str, type(None)),
    "cybertipline_annotation": (str, type(None)),
    "implies": list,
}


def parse_vocabulary(data: Any) -> Vocabulary:
    """A validated `Vocabulary` from decoded JSON; a subclass of `VocabularyError` if it is not one."""
    _object(
        data, "vocabulary", {"format", "version", "title", "sources", "lists", "flags", "category_schemes"}
    )
    if _get(data, "format", int, "vocabulary") != FORMAT:
        raise VocabularyFormatError(
            f"vocabulary: format {data['format']!r} is not supported (expected {FORMAT})"
        )
    version = _get(data, "version", str, "vocabulary")
    if not re.match(VERSION_ID, version):
        raise VocabularyFormatError(f"vocabulary: {version!r} is not a version id")
    sources = _get(data, "sources", dict, "vocabulary")
    for key, value in sources.items():
        if not isinstance(value, str):
            raise VocabularyFormatError(f"sources.{key}: expected str, got {type(value).__name__}")

    lists_data = _get(data, "lists", dict, "vocabulary")
    for name in REQUIRED_LISTS:
        if name not in lists_data:
            raise VocabularyFormatError(f"lists: the list {name!r} is missing")
    lists = {name: _term_list(name, value) for name, value in lists_data.items()}

    flags, flag_values = _flags(_get(data, "flags", dict, "vocabulary"))
    default, schemes = _schemes(_get(data, "category_schemes", dict, "vocabulary"))
    return Vocabulary(
        version=version,
        title=_get(data, "title", str, "vocabulary"),
        sources=dict(sources),
        lists=lists,
        flags=flags,
        iccam_v3_flag_values=flag_values,
        default_scheme=default,
        schemes=schemes,
    )


def _term_list(name: str, data: Any) -> TermList:
    where = f"lists.{name}"
    _object(data, where, set(_LIST_KEYS), optional={"iccam_v3_lookup", "cybertipline_note"})
    values = {key: _get(data, key, kind, where) for key, kind in _LIST_KEYS.items() if key in data}
    if values["applies_to"] not in ("item", "case"):
        raise VocabularyFormatError(f"{where}.applies_to: must be 'item' or 'case'")
    terms = tuple(_term(item, f"{where}.terms[{i}]") for i, item in enumerate(values.pop("terms")))
    if not terms:
        raise VocabularyFormatError(f"{where}: a list needs at least one term")
    _unique_codes(terms, where)
    element = values.get("cybertipline_element")
    if element is None and not values.get("cybertipline_note"):
        raise MissingNoteError(f"{where}: no CyberTipline element and no cybertipline_note saying why")
    for term, i in zip(terms, range(len(terms)), strict=True):
        place = f"{where}.terms[{i}] ({term.code})"
        if values["iccam_v3_field"] and term.iccam_v3 is None and not term.note:
            raise MissingNoteError(f"{place}: no ICCAM id and no note saying why")
        if element and term.cybertipline is None and not term.note:
            raise MissingNoteError(f"{place}: no CyberTipline value and no note saying why")
        if not element and term.cybertipline is not None:
            raise VocabularyFormatError(
                f"{place}: a CyberTipline value in a list without a CyberTipline element"
            )
        allowed = _CYBERTIPLINE_VALUES.get(element or "")
        if allowed and term.cybertipline is not None and term.cybertipline not in allowed:
            raise UnknownReferenceError(f"{place}: {term.cybertipline!r} is not a value of {element}")
        if term.cybertipline_annotation and term.cybertipline_annotation not in FILE_ANNOTATIONS:
            raise UnknownReferenceError(
                f"{place}: {term.cybertipline_annotation!r} is not a fileAnnotations element"
            )
        if term.iccam_v3 is not None and term.iccam_v3 < 0:
            raise VocabularyFormatError(f"{place}: an ICCAM id is not negative")
    _primaries(terms, "iccam_v3", where)
    _primaries(terms, "cybertipline", where)
    return TermList(name=name, terms=terms, **values)


def _term(data: Any, where: str) -> Term:
    _object(data, where, set(_TERM_KEYS), optional=set(_TERM_KEYS) - {"code", "label"})
    values = {key: _get(data, key, kind, where) for key, kind in _TERM_KEYS.items() if key in data}
    if not values["code"]:
        raise VocabularyFormatError(f"{where}.code: empty")
    return Term(**values)


def _flags(data: dict) -> tuple[tuple[Flag, ...], dict[bool, int]]:
    _object(data, "flags", {"label", "applies_to", "iccam_v3_values", "terms"})
    raw_values = _get(data, "iccam_v3_values", dict, "flags")
    if set(raw_values) != {"false", "true"} or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw_values.values()
    ):
        raise VocabularyFormatError('flags.iccam_v3_values: needs whole numbers for "false" and "true"')
    if raw_values["false"] == raw_values["true"]:
        raise VocabularyFormatError("flags.iccam_v3_values: yes and no need different values")
    flags = []
    for i, item in enumerate(_get(data, "terms", list, "flags")):
        where = f"flags.terms[{i}]"
        _object(item, where, set(_FLAG_KEYS), optional=set(_FLAG_KEYS) - {"code", "label", "implies"})
        values = {key: _get(item, key, kind, where) for key, kind in _FLAG_KEYS.items() if key in item}
        if not all(isinstance(code, str) for code in values["implies"]):
            raise VocabularyFormatError(f"{where}.implies: a list of flag codes")
        values["implies"] = tuple(values["implies"])
        flags.append(Flag(**values))
    _unique_codes(flags, "flags")
    codes = {flag.code for flag in flags}
    for flag in flags:
        where = f"flags ({flag.code})"
        for other in (*flag.implies, *([flag.iccam_v3_via] if flag.iccam_v3_via else [])):
            if other not in codes or other == flag.code:
                raise UnknownReferenceError(f"{where}: refers to unknown flag {other!r}")
        if flag.iccam_v3_via and not next(f for f in flags if f.code == flag.iccam_v3_via).iccam_v3_field:
            raise UnknownReferenceError(f"{where}: {flag.iccam_v3_via!r} has no ICCAM field to ride on")
        if not flag.iccam_v3_field and not flag.note:
            raise MissingNoteError(f"{where}: no ICCAM field and no note saying why")
        if not flag.cybertipline_annotation and not flag.note:
            raise MissingNoteError(f"{where}: no CyberTipline annotation and no note saying why")
        if flag.cybertipline_annotation and flag.cybertipline_annotation not in FILE_ANNOTATIONS:
            raise UnknownReferenceError(
                f"{where}: {flag.cybertipline_annotation!r} is not a fileAnnotations element"
            )
    fields = Counter(flag.iccam_v3_field for flag in flags if flag.iccam_v3_field)
    for field, count in fields.items():
        if count > 1:
            raise AmbiguousMappingError(f"flags: ICCAM field {field!r} is claimed by {count} flags")
    _cycle_free(flags)
    return tuple(flags), {False: raw_values["false"], True: raw_values["true"]}


def _cycle_free(flags: list[Flag]) -> None:
    implies = {flag.code: set(flag.implies) for flag in flags}
    for start in implies:
        seen, waiting = set(), list(implies[start])
        while waiting:
            code = waiting.pop()
            if code == start:
                raise VocabularyFormatError(
                    f"flags: {start!r} implies itself through {sorted(seen) or [start]}"
                )
            if code not in seen:
                seen.add(code)
                waiting.extend(implies[code])


def _schemes(data: dict) -> tuple[str, dict[str, CategoryScheme]]:
    keys = {"default", "cybertipline_element", "cybertipline_note", "iccam_v3_note", "schemes"}
    _object(data, "category_schemes", keys)
    for key in keys - {"schemes"}:
        _get(data, key, str, "category_schemes")
    schemes = {}
    for name, item in _get(data, "schemes", dict, "category_schemes").items():
        where = f"category_schemes.{name}"
        _object(item, where, {"label", "terms"})
        terms = tuple(_term(t, f"{where}.terms[{i}]") for i, t in enumerate(_get(item, "terms", list, where)))
        if not terms:
            raise VocabularyFormatError(f"{where}: a scheme needs at least one category")
        _unique_codes(terms, where)
        for term in terms:
            if term.cybertipline is not None and term.cybertipline not in _CATEGORY_DIGITS:
                raise UnknownReferenceError(
                    f"{where} ({term.code}): {term.cybertipline!r} is not an industry act digit"
                )
            if term.cybertipline is None and not term.note:
                raise MissingNoteError(f"{where} ({term.code}): no industry act digit and no note saying why")
        _primaries(terms, "cybertipline", where)
        schemes[name] = CategoryScheme(name=name, label=_get(item, "label", str, where), terms=terms)
    default = data["default"]
    if default not in schemes:
        raise UnknownReferenceError(f"category_schemes.default: there is no scheme {default!r}")
    return default, schemes


def _primaries(terms, attribute: str, where: str) -> None:
    """An external value claimed by several terms may have at most one marked primary."""
    by_value: dict[Any, list[Term]] = {}
    for term in terms:
        value = getattr(term, attribute)
        if value is not None:
            by_value.setdefault(value, []).append(term)
        elif getattr(term, f"{attribute}_primary"):
            raise VocabularyFormatError(f"{where} ({term.code}): primary for a value it does not have")
    for value, claiming in by_value.items():
        primary = [t.code for t in claiming if getattr(t, f"{attribute}_primary")]
        if len(primary) > 1:
            raise AmbiguousMappingError(f"{where}: {attribute} {value!r} has several primary terms {primary}")


def _unique_codes(items, where: str) -> None:
    counts = Counter(item.code for item in items)
    for code, count in counts.items():
        if count > 1:
            raise DuplicateTermError(f"{where}: the code {code!r} is used {count} times")


def _object(data: Any, where: str, keys: set[str], optional: set[str] = frozenset()) -> None:
    if not isinstance(data, dict):
        raise VocabularyFormatError(f"{where}: expected a JSON object, got {type(data).__name__}")
    unexpected = set(data) - keys
    if unexpected:
        raise VocabularyFormatError(f"{where}: unexpected field {sorted(unexpected)[0]!r}")
    missing = keys - set(optional) - set(data)
    if missing:
        raise VocabularyFormatError(f"{where}: missing field {sorted(missing)[0]!r}")


def _get(obj: dict, name: str, kind, where: str) -> Any:
    if name not in obj:
        raise VocabularyFormatError(f"{where}: missing field {name!r}")
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, but `"iccam_v3": true` is a mistake in the file.
    if isinstance(value, bool) and bool not in kinds:
        raise VocabularyFormatError(f"{where}.{name}: expected {_names(kinds)}, got bool")
    if not isinstance(value, kinds):
        raise VocabularyFormatError(f"{where}.{name}: expected {_names(kinds)}, got {type(value).__name__}")
    return value


def _names(kinds: tuple) -> str:
    return " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
