"""The MNR framework as data: what a framework file holds once it is loaded and validated.

The WeProtect Model National Response is a document, and WeProtect revises it. OpenMNR keeps the
framework in a JSON file per version (``mnr-2016.json`` beside this module) so that a newer framework
is a new file, not a code change, and so that every assessment can name the version it was made
against and be read with that same version later. ``loader.py`` reads and validates the files.

Two things in a file are arguments rather than facts, and the file says so:

* A **prerequisite** says that one level of a capability needs another capability at some level. The
  MNR calls itself "not prescriptive", so a prerequisite *advises* by default: the plan orders steps by
  it and shows the reason, but a country may record any level it has reached. Only where the MNR's own
  wording makes one thing impossible without the other is a prerequisite ``hard``, and then a level past
  it cannot be recorded. A prerequisite may be met by any one of several capabilities (takedown notices
  come from "law enforcement agencies or hotline organisations"), and every prerequisite cites the
  passage that justifies it.
* A **criterion** is OpenMNR's own wording unless it cites a source passage; a **level name** is
  OpenMNR's own unless it follows a published model (``name_from``).
"""

from dataclasses import dataclass, field
from pathlib import Path

from openmnr.core.mnr.errors import UnknownReferenceError

DEFAULT_VERSION = "mnr-2016"
FRAMEWORK_DIR = Path(__file__).resolve().parent
LEVEL_NUMBERS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Source:
    """A published text the file quotes: who published it, its title and where it was read."""

    id: str
    publisher: str
    title: str
    url: str


@dataclass(frozen=True)
class Citation:
    """A passage quoted word for word from ``source`` (a source id of the same file)."""

    source: str
    passage: str


@dataclass(frozen=True)
class Level:
    """A maturity level shared by all capabilities (0 absent ... 4 maturity).

    ``phase`` is the phase of the WeProtect/UNICEF maturity model the level corresponds to (None for
    level 0: that model starts at "building"); ``name_from`` is the source whose name the level uses,
    or None when the name is OpenMNR's own.
    """

    number: int
    name: str
    description: str
    phase: int | None = None
    name_from: str | None = None


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
    """A short, checkable statement that must hold for a capability to be at ``level``. Without
    ``cites`` the wording is OpenMNR's own judgement."""

    id: str
    capability: int
    level: int
    text: str
    cites: tuple[Citation, ...] = ()


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
class Requirement:
    """Capability ``capability`` at ``level`` or above."""

    capability: int
    level: int


@dataclass(frozen=True)
class Prerequisite:
    """Level ``for_level`` of capability ``capability`` needs one of ``any_of`` (usually one).

    ``hard`` prerequisites refuse a recorded level past them; the others advise. ``why`` is OpenMNR's
    reasoning; ``cites`` the MNR wording it rests on.
    """

    capability: int
    for_level: int
    any_of: tuple[Requirement, ...]
    why: str
    cites: tuple[Citation, ...]
    hard: bool = False

    @property
    def requires(self) -> tuple[int, ...]:
        """The capabilities that can each satisfy it."""
        return tuple(r.capability for r in self.any_of)

    def met_by(self, levels) -> bool:
        """Whether ``levels`` (capability number -> level) satisfies at least one alternative."""
        return any(levels[r.capability] >= r.level for r in self.any_of)


@dataclass(frozen=True)
class Framework:
    """One version of the MNR framework. Immutable, so it can be loaded once and shared.

    ``digest`` is the SHA-256 of the file's content in canonical form (key order and spacing do not
    count): a signed-off assessment records it, so a later change to the file it was judged against
    can be noticed.
    """

    version: str
    title: str
    source: str
    levels: tuple[Level, ...]
    enablers: tuple[Enabler, ...]
    domains: tuple[Domain, ...]
    capabilities: tuple[Capability, ...]
    prerequisites: tuple[Prerequisite, ...]
    sources: tuple[Source, ...] = ()
    digest: str = field(default="", compare=False)

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

    def level(self, number: int) -> Level:
        for level in self.levels:
            if level.number == number:
                return level
        raise UnknownReferenceError(f"framework {self.version} has no level {number!r}")

    def source_of(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise UnknownReferenceError(f"framework {self.version} has no source {source_id!r}")

    def capabilities_in(self, domain_id: str) -> tuple[Capability, ...]:
        return tuple(c for c in self.capabilities if c.domain == domain_id)

    def prerequisites_of(self, number: int) -> tuple[Prerequisite, ...]:
        """What capability ``number`` waits for, lowest level first."""
        return tuple(
            sorted(
                (p for p in self.prerequisites if p.capability == number),
                key=lambda p: p.for_level,
            )
        )

    def dependants_of(self, number: int) -> tuple[Prerequisite, ...]:
        """The prerequisites that capability ``number`` can satisfy: which capabilities wait for it."""
        return tuple(p for p in self.prerequisites if number in p.requires)

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
        """Capability numbers with every capability that can satisfy a prerequisite before the
        capabilities that need it; among capabilities free to go next, the lowest number first, so the
        order is always the same."""
        order, _ = order_and_leftover(self)
        return tuple(order)


def order_and_leftover(framework: Framework) -> tuple[list[int], set[int]]:
    """Capabilities in prerequisite order, and those that can never be ordered because of a cycle.

    Every alternative of an any-of prerequisite counts as an edge: the plan may pick any of them, so
    each must be ordered before the capability that waits.
    """
    waiting = {
        c.number: {n for p in framework.prerequisites_of(c.number) for n in p.requires}
        for c in framework.capabilities
    }
    order: list[int] = []
    while ready := [n for n, needs in waiting.items() if not needs]:
        order.append(min(ready))
        del waiting[order[-1]]
        for needs in waiting.values():
            needs.discard(order[-1])
    return order, set(waiting)


def find_cycle(framework: Framework) -> list[int] | None:
    """A cycle of prerequisites written in the order they must be done (a -> b: a before b), or None."""
    _, leftover = order_and_leftover(framework)
    if not leftover:
        return None
    # Each capability left over waits for another one left over, so following those waits must loop.
    n = min(leftover)
    path: list[int] = []
    while n not in path:
        path.append(n)
        n = min(r for p in framework.prerequisites_of(n) for r in p.requires if r in leftover)
    cycle = path[path.index(n) :] + [n]
    # The walk follows "waits for" edges; reverse it so it reads in the order work must happen.
    return cycle[::-1]
