"""The MNR framework as data: loading and validating a versioned framework file.

The WeProtect Model National Response is a document, and WeProtect revises it. OpenMNR keeps the
framework in a JSON file per version (``mnr-2016.json`` beside this module) so that a newer framework
is a new file, not a code change, and so that every assessment can name the version it was made
against and be read with that same version later.

A file is validated completely when it is loaded: a framework with a duplicate number, a prerequisite
on a capability that does not exist or a prerequisite cycle would give plans that make no sense, so it
is refused with a typed error (a subclass of :class:`FrameworkError`) that says what is wrong and where.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_VERSION = "mnr-2016"
FRAMEWORK_DIR = Path(__file__).resolve().parent
FORMAT = 1
LEVEL_NUMBERS = (0, 1, 2, 3, 4)

# A version id becomes a file name, so it may not contain path separators or dots that climb out.
_VERSION_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class MNRError(Exception):
    """Base of every error raised by ``openmnr.core.mnr``."""


class FrameworkError(MNRError):
    """A framework file cannot be found or is not a valid framework."""


class FrameworkNotFoundError(FrameworkError):
    """No framework file exists for the requested version id or path."""


class FrameworkFormatError(FrameworkError):
    """The file is not JSON, or a field is missing or has the wrong type."""


class DuplicateError(FrameworkError):
    """Two entries share a number or id that must be unique."""


class UnknownReferenceError(FrameworkError):
    """An entry refers to a capability or domain that the framework does not define."""


class LevelError(FrameworkError):
    """Maturity levels are not exactly 0-4, or a criterion or prerequisite names a level outside them,
    or a capability lacks criteria for a level."""


class PrerequisiteCycleError(FrameworkError):
    """The prerequisites between capabilities form a cycle, so no order could satisfy them."""


@dataclass(frozen=True)
class Level:
    """A maturity level shared by all capabilities (0 absent ... 4 mature)."""

    number: int
    name: str
    description: str


@dataclass(frozen=True)
class Enabler:
    """A condition the whole response depends on (resources, collaboration, ...); not assessed alone."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Domain:
    """One of the six areas of the MNR, with the outcome it aims for."""

    id: str
    name: str
    outcome: str


@dataclass(frozen=True)
class Criterion:
    """A short, checkable statement that must hold for a capability to be at ``level``."""

    id: str
    capability: int
    level: int
    text: str


@dataclass(frozen=True)
class Indicator:
    """A measurable sign of a capability. A ``live`` indicator is filled by the platform from its own
    data; ``key`` is stable across framework versions so the code that fills it can find it."""

    key: str
    capability: int
    text: str
    unit: str
    live: bool


@dataclass(frozen=True)
class Capability:
    """One of the MNR capabilities, with its criteria for levels 1-4 and its indicators."""

    number: int
    name: str
    domain: str
    description: str
    criteria: tuple[Criterion, ...]
    indicators: tuple[Indicator, ...]

    def criteria_at(self, level: int) -> tuple[Criterion, ...]:
        """The criteria of one level, in file order (level 0 has none: it is where every capability starts)."""
        return tuple(c for c in self.criteria if c.level == level)

    def level_met(self, met: frozenset[str] | set[str]) -> int:
        """The highest level whose criteria, and those of every level below, are all in ``met``.

        An assessment records a level and the criteria met separately; this lets a view point out
        where the two disagree.
        """
        reached = 0
        for level in LEVEL_NUMBERS[1:]:
            if not all(c.id in met for c in self.criteria_at(level)):
                break
            reached = level
        return reached


@dataclass(frozen=True)
class Prerequisite:
    """Capability ``capability`` cannot progress while capability ``requires`` is below ``level``."""

    capability: int
    requires: int
    level: int
    why: str


@dataclass(frozen=True)
class Framework:
    """One version of the MNR framework. Immutable, so it can be loaded once and shared."""

    version: str
    title: str
    source: str
    levels: tuple[Level, ...]
    enablers: tuple[Enabler, ...]
    domains: tuple[Domain, ...]
    capabilities: tuple[Capability, ...]
    prerequisites: tuple[Prerequisite, ...]

    def capability(self, number: int) -> Capability:
        for capability in self.capabilities:
            if capability.number == number:
                return capability
        raise UnknownReferenceError(f"framework {self.version} has no capability {number!r}")

    def domain(self, domain_id: str) -> Domain:
        for domain in self.domains:
            if domain.id == domain_id:
                return domain
        raise UnknownReferenceError(f"framework {self.version} has no domain {domain_id!r}")

    def capabilities_in(self, domain_id: str) -> tuple[Capability, ...]:
        return tuple(c for c in self.capabilities if c.domain == domain_id)

    def prerequisites_of(self, number: int) -> tuple[Prerequisite, ...]:
        """What capability ``number`` waits for."""
        return tuple(p for p in self.prerequisites if p.capability == number)

    def criterion(self, criterion_id: str) -> Criterion:
        for capability in self.capabilities:
            for criterion in capability.criteria:
                if criterion.id == criterion_id:
                    return criterion
        raise UnknownReferenceError(f"framework {self.version} has no criterion {criterion_id!r}")

    def indicator(self, key: str) -> Indicator:
        for indicator in self.indicators():
            if indicator.key == key:
                return indicator
        raise UnknownReferenceError(f"framework {self.version} has no indicator {key!r}")

    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for c in self.capabilities for i in c.indicators)

    def live_indicators(self) -> tuple[Indicator, ...]:
        """The indicators the platform fills from its own data."""
        return tuple(i for i in self.indicators() if i.live)

    def topological_order(self) -> tuple[int, ...]:
        """Capability numbers with every prerequisite before the capabilities that need it; among
        capabilities free to go next, the lowest number first, so the order is always the same."""
        order, _ = _order_and_leftover(self)
        return tuple(order)


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
            Prerequisite(
                capability=_field(item, "capability", int, f"prerequisites[{i}]"),
                requires=_field(item, "requires", int, f"prerequisites[{i}]"),
                level=_field(item, "level", int, f"prerequisites[{i}]"),
                why=_field(item, "why", str, f"prerequisites[{i}]"),
            )
            for i, item in enumerate(_field(data, "prerequisites", list, "framework"))
        ),
    )
    _validate(framework)
    return framework


def _parse_level(item: Any, i: int) -> Level:
    where = f"levels[{i}]"
    return Level(
        number=_field(item, "level", int, where),
        name=_field(item, "name", str, where),
        description=_field(item, "description", str, where),
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


def _field(obj: Any, name: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict):
        raise FrameworkFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if name not in obj:
        raise FrameworkFormatError(f"{where}: missing field {name!r}")
    value = obj[name]
    # bool is a subclass of int in Python, but `"level": true` is a mistake in the file.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameworkFormatError(f"{where}.{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _validate(framework: Framework) -> None:
    v = framework.version
    if not _VERSION_ID.match(v):
        raise FrameworkFormatError(f"framework: version {v!r} is not a valid version id")
    if sorted(level.number for level in framework.levels) != list(LEVEL_NUMBERS):
        raise LevelError(f"{v}: maturity levels must be exactly {list(LEVEL_NUMBERS)}")

    _unique("enabler id", [e.id for e in framework.enablers], v)
    _unique("domain id", [d.id for d in framework.domains], v)
    _unique("capability number", [c.number for c in framework.capabilities], v)
    _unique("criterion id", [c.id for cap in framework.capabilities for c in cap.criteria], v)
    _unique("indicator key", [i.key for i in framework.indicators()], v)
    _unique(
        "prerequisite",
        [f"{p.requires}->{p.capability}" for p in framework.prerequisites],
        v,
    )

    domain_ids = {d.id for d in framework.domains}
    for capability in framework.capabilities:
        if capability.domain not in domain_ids:
            raise UnknownReferenceError(
                f"{v}: capability {capability.number} is in unknown domain {capability.domain!r}"
            )
        for criterion in capability.criteria:
            if criterion.level not in LEVEL_NUMBERS[1:]:
                raise LevelError(
                    f"{v}: criterion {criterion.id} is at level {criterion.level}; criteria belong to levels 1-4"
                )
        for level in LEVEL_NUMBERS[1:]:
            if not capability.criteria_at(level):
                raise LevelError(f"{v}: capability {capability.number} has no criteria for level {level}")

    numbers = {c.number for c in framework.capabilities}
    for p in framework.prerequisites:
        for n in (p.capability, p.requires):
            if n not in numbers:
                raise UnknownReferenceError(
                    f"{v}: prerequisite {p.requires}->{p.capability} names unknown capability {n}"
                )
        if p.level not in LEVEL_NUMBERS[1:]:
            raise LevelError(f"{v}: prerequisite {p.requires}->{p.capability} needs level {p.level}; use 1-4")

    cycle = _find_cycle(framework)
    if cycle:
        raise PrerequisiteCycleError(f"{v}: prerequisites form a cycle: {' -> '.join(map(str, cycle))}")


def _unique(what: str, values: list, version: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise DuplicateError(f"{version}: duplicate {what} {value!r}")
        seen.add(value)


def _order_and_leftover(framework: Framework) -> tuple[list[int], set[int]]:
    """Capabilities in prerequisite order, and those that can never be ordered because of a cycle."""
    waiting = {
        c.number: {p.requires for p in framework.prerequisites_of(c.number)} for c in framework.capabilities
    }
    order: list[int] = []
    while ready := [n for n, needs in waiting.items() if not needs]:
        order.append(min(ready))
        del waiting[order[-1]]
        for needs in waiting.values():
            needs.discard(order[-1])
    return order, set(waiting)


def _find_cycle(framework: Framework) -> list[int] | None:
    """A cycle of prerequisites written in the order they must be done (a -> b: a before b), or None."""
    _, leftover = _order_and_leftover(framework)
    if not leftover:
        return None
    # Each capability left over waits for another one left over, so following those waits must loop.
    n = min(leftover)
    path: list[int] = []
    while n not in path:
        path.append(n)
        n = min(p.requires for p in framework.prerequisites_of(n) if p.requires in leftover)
    cycle = path[path.index(n) :] + [n]
    # The walk follows "waits for" edges; reverse it so it reads in the order work must happen.
    return cycle[::-1]
