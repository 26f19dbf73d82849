"""Reading and validating framework files.

A file is validated completely when it is loaded: a framework with a duplicate number, a prerequisite
on a capability that does not exist, a prerequisite cycle or a prerequisite that cites nothing would
give plans that make no sense or advice that nobody can check, so it is refused with a typed error (a
subclass of :class:`FrameworkError`) that says what is wrong and where.
"""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from openmnr.core.mnr.errors import (
    CitationError,
    DuplicateError,
    FrameworkFormatError,
    FrameworkNotFoundError,
    LevelError,
    PrerequisiteCycleError,
    UnknownReferenceError,
)
from openmnr.core.mnr.framework import (
    DEFAULT_VERSION,
    FRAMEWORK_DIR,
    LEVEL_NUMBERS,
    Capability,
    Citation,
    Criterion,
    Domain,
    Enabler,
    Framework,
    Indicator,
    Level,
    Prerequisite,
    Requirement,
    Source,
    find_cycle,
)

FORMAT = 2

# A version id becomes a file name, so it may not contain path separators or dots that climb out.
_VERSION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_NOTHING = object()


def available_versions(folder: Path | None = None) -> list[str]:
    """The version ids of the framework files in ``folder`` (default: the files shipped with OpenMNR)."""
    folder = FRAMEWORK_DIR if folder is None else Path(folder)
    return sorted(p.stem for p in folder.glob("*.json") if _VERSION_ID.match(p.stem))


def load_framework(version: str = DEFAULT_VERSION, *, folder: Path | None = None) -> Framework:
    """Load the framework ``version`` from ``<folder>/<version>.json`` (default folder: beside this module)."""
    if not isinstance(version, str) or not _VERSION_ID.match(version):
        raise FrameworkNotFoundError(
            f"{version!r} is not a framework version id (lower-case letters, digits, '-' and '_')"
        )
    folder = FRAMEWORK_DIR if folder is None else Path(folder)
    framework = load_framework_file(folder / f"{version}.json")
    if framework.version != version:
        raise FrameworkFormatError(
            f"{folder / f'{version}.json'}: the file declares version {framework.version!r}, not {version!r}"
        )
    return framework


def load_framework_file(path: Path | str) -> Framework:
    """Load and validate a framework from a JSON file anywhere on disk."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrameworkNotFoundError(f"no framework file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkFormatError(f"{path}: cannot read the file ({exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FrameworkFormatError(f"{path}: not valid JSON ({exc})") from exc
    return parse_framework(data)


def digest_of(data: Any) -> str:
    """SHA-256 of decoded JSON in canonical form: the same framework gives the same digest whatever
    the spacing or key order of its file."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_framework(data: Any) -> Framework:
    """Build a validated :class:`Framework` from the decoded JSON of a framework file."""
    if _field(data, "format", int, "framework") != FORMAT:
        raise FrameworkFormatError(
            f"framework: format {data['format']!r} is not supported (expected {FORMAT})"
        )
    framework = Framework(
        version=_field(data, "version", str, "framework"),
        title=_field(data, "title", str, "framework"),
        source=_field(data, "source", str, "framework"),
        sources=tuple(
            Source(
                id=_field(item, "id", str, f"sources[{i}]"),
                publisher=_field(item, "publisher", str, f"sources[{i}]"),
                title=_field(item, "title", str, f"sources[{i}]"),
                url=_field(item, "url", str, f"sources[{i}]"),
            )
            for i, item in enumerate(_field(data, "sources", list, "framework"))
        ),
        levels=tuple(
            _parse_level(item, i) for i, item in enumerate(_field(data, "levels", list, "framework"))
        ),
        enablers=tuple(
            Enabler(
                id=_field(item, "id", str, f"enablers[{i}]"),
                name=_field(item, "name", str, f"enablers[{i}]"),
                description=_field(item, "description", str, f"enablers[{i}]"),
            )
            for i, item in enumerate(_field(data, "enablers", list, "framework"))
        ),
        domains=tuple(
            Domain(
                id=_field(item, "id", str, f"domains[{i}]"),
                name=_field(item, "name", str, f"domains[{i}]"),
                outcome=_field(item, "outcome", str, f"domains[{i}]"),
            )
            for i, item in enumerate(_field(data, "domains", list, "framework"))
        ),
        capabilities=tuple(
            _parse_capability(item, i)
            for i, item in enumerate(_field(data, "capabilities", list, "framework"))
        ),
        prerequisites=tuple(
            _parse_prerequisite(item, i)
            for i, item in enumerate(_field(data, "prerequisites", list, "framework"))
        ),
        digest=digest_of(data),
    )
    _validate(framework)
    return framework


def _parse_level(item: Any, i: int) -> Level:
    where = f"levels[{i}]"
    return Level(
        number=_field(item, "level", int, where),
        name=_field(item, "name", str, where),
        description=_field(item, "description", str, where),
        phase=_field(item, "phase", int, where, optional=True),
        name_from=_field(item, "name_from", str, where, optional=True),
    )


def _parse_citations(item: Any, where: str) -> tuple[Citation, ...]:
    cites = _field(item, "cites", list, where, optional=True) or []
    return tuple(
        Citation(
            source=_field(c, "source", str, f"{where}.cites[{k}]"),
            passage=_field(c, "passage", str, f"{where}.cites[{k}]"),
        )
        for k, c in enumerate(cites)
    )


def _parse_capability(item: Any, i: int) -> Capability:
    where = f"capabilities[{i}]"
    number = _field(item, "number", int, where)
    return Capability(
        number=number,
        name=_field(item, "name", str, where),
        domain=_field(item, "domain", str, where),
        description=_field(item, "description", str, where),
        criteria=tuple(
            Criterion(
                id=_field(c, "id", str, f"{where}.criteria[{j}]"),
                capability=number,
                level=_field(c, "level", int, f"{where}.criteria[{j}]"),
                text=_field(c, "text", str, f"{where}.criteria[{j}]"),
                cites=_parse_citations(c, f"{where}.criteria[{j}]"),
            )
            for j, c in enumerate(_field(item, "criteria", list, where))
        ),
        indicators=tuple(
            Indicator(
                key=_field(ind, "key", str, f"{where}.indicators[{j}]"),
                capability=number,
                text=_field(ind, "text", str, f"{where}.indicators[{j}]"),
                unit=_field(ind, "unit", str, f"{where}.indicators[{j}]"),
                live=_field(ind, "live", bool, f"{where}.indicators[{j}]"),
            )
            for j, ind in enumerate(_field(item, "indicators", list, where))
        ),
    )


def _parse_prerequisite(item: Any, i: int) -> Prerequisite:
    where = f"prerequisites[{i}]"
    return Prerequisite(
        capability=_field(item, "capability", int, where),
        for_level=_field(item, "for_level", int, where),
        any_of=tuple(
            Requirement(
                capability=_field(r, "capability", int, f"{where}.any_of[{k}]"),
                level=_field(r, "level", int, f"{where}.any_of[{k}]"),
            )
            for k, r in enumerate(_field(item, "any_of", list, where))
        ),
        why=_field(item, "why", str, where),
        cites=_parse_citations(item, where),
        hard=_field(item, "hard", bool, where, optional=True) or False,
    )


def _field(obj: Any, name: str, kind: type, where: str, *, optional: bool = False) -> Any:
    """``obj[name]`` checked to be a ``kind``; an optional field may be missing or null (None)."""
    if not isinstance(obj, dict):
        raise FrameworkFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    value = obj.get(name, _NOTHING)
    if value is _NOTHING or (optional and value is None):
        if optional:
            return None
        raise FrameworkFormatError(f"{where}: missing field {name!r}")
    # bool is a subclass of int in Python, but `"level": true` is a mistake in the file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameworkFormatError(f"{where}.{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _validate(framework: Framework) -> None:
    v = framework.version
    if not _VERSION_ID.match(v):
        raise FrameworkFormatError(f"framework: version {v!r} is not a valid version id")
    _unique("source id", [s.id for s in framework.sources], v)
    sources = {s.id for s in framework.sources}
    for source in framework.sources:
        if not source.url.startswith(("https://", "http://")):
            raise FrameworkFormatError(f"{v}: source {source.id} has no http(s) address")

    _validate_levels(framework, sources)
    _unique("enabler id", [e.id for e in framework.enablers], v)
    _unique("domain id", [d.id for d in framework.domains], v)
    _unique("capability number", [c.number for c in framework.capabilities], v)
    _unique("criterion id", [c.id for cap in framework.capabilities for c in cap.criteria], v)
    _unique("indicator key", [i.key for i in framework.indicators()], v)

    domains = {d.id for d in framework.domains}
    for capability in framework.capabilities:
        if capability.domain not in domains:
            raise UnknownReferenceError(
                f"{v}: capability {capability.number} is in unknown domain {capability.domain!r}"
            )
        for criterion in capability.criteria:
            if criterion.level not in LEVEL_NUMBERS[1:]:
                raise LevelError(
                    f"{v}: criterion {criterion.id} is at level {criterion.level}; criteria belong to levels 1-4"
                )
            _check_citations(criterion.cites, sources, f"{v}: criterion {criterion.id}")
        for level in LEVEL_NUMBERS[1:]:
            if not capability.criteria_at(level):
                raise LevelError(f"{v}: capability {capability.number} has no criteria for level {level}")

    _validate_prerequisites(framework, sources)
    cycle = find_cycle(framework)
    if cycle:
        raise PrerequisiteCycleError(f"{v}: prerequisites form a cycle: {' -> '.join(map(str, cycle))}")


def _validate_levels(framework: Framework, sources: set[str]) -> None:
    v = framework.version
    if sorted(level.number for level in framework.levels) != list(LEVEL_NUMBERS):
        raise LevelError(f"{v}: maturity levels must be exactly {list(LEVEL_NUMBERS)}")
    phases = [level.phase for level in framework.levels if level.phase is not None]
    _unique("maturity model phase", phases, v)
    for level in framework.levels:
        if level.phase is not None and level.phase not in LEVEL_NUMBERS[1:]:
            raise LevelError(f"{v}: level {level.number} maps to phase {level.phase}; phases are 1-4")
        if level.name_from is not None and level.name_from not in sources:
            raise UnknownReferenceError(f"{v}: level {level.number} takes its name from unknown source")


def _validate_prerequisites(framework: Framework, sources: set[str]) -> None:
    v = framework.version
    numbers = {c.number for c in framework.capabilities}
    seen = set()
    for p in framework.prerequisites:
        name = f"prerequisite of {p.capability} at level {p.for_level}"
        if p.capability not in numbers:
            raise UnknownReferenceError(f"{v}: {name} is for unknown capability {p.capability}")
        if p.for_level not in LEVEL_NUMBERS[1:]:
            raise LevelError(f"{v}: {name}: a prerequisite is for a level 1-4")
        if not p.any_of:
            raise FrameworkFormatError(f"{v}: {name} names no capability in any_of")
        for r in p.any_of:
            if r.capability not in numbers:
                raise UnknownReferenceError(f"{v}: {name} names unknown capability {r.capability}")
            if r.level not in LEVEL_NUMBERS[1:]:
                raise LevelError(f"{v}: {name} needs {r.capability} at level {r.level}; use 1-4")
            if r.capability == p.capability:
                raise PrerequisiteCycleError(
                    f"{v}: prerequisites form a cycle: {p.capability} -> {p.capability}"
                )
        key = (p.capability, p.for_level, frozenset(p.any_of))
        if key in seen:
            raise DuplicateError(f"{v}: duplicate {name}")
        seen.add(key)
        if not p.why.strip():
            raise CitationError(f"{v}: {name} does not say why")
        if not p.cites:
            raise CitationError(f"{v}: {name} cites no wording that justifies it")
        _check_citations(p.cites, sources, f"{v}: {name}")


def _check_citations(cites, sources: set[str], where: str) -> None:
    for citation in cites:
        if citation.source not in sources:
            raise UnknownReferenceError(f"{where} cites unknown source {citation.source!r}")
        if not citation.passage.strip():
            raise CitationError(f"{where} cites an empty passage")


def _unique(what: str, values: list, version: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise DuplicateError(f"{version}: duplicate {what} {value!r}")
        seen.add(value)
