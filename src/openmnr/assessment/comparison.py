"""The regional comparison: levels by capability across countries, the gaps they share, and who has
already done what others plan.

It reads only signed results: this installation's own signed-off cycles and the packages other
countries chose to sign and send (verified on import). It serves peer learning, not judgement, so it
follows WeProtect's rule for the MNR self-assessment that results are not used "to rank or benchmark
particular countries' responses": countries are listed alphabetically, nothing is totalled or
averaged per country, and the only orderings are of capabilities (by how many countries share a gap).

Countries assessed against different framework versions are not compared capability by capability
(a number may mean another capability); they are listed apart with their version.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from openmnr.core.mnr import Framework, FrameworkError

from .access import visible_cycles
from .analysis import assess
from .frameworks import framework
from .models import Cycle, ImportedResults
from .results import results_data

OWN = "this installation"
IMPORTED = "imported, signature verified"


@dataclass(frozen=True)
class CountryResults:
    """One country's latest signed results, whatever their origin."""

    country: str
    period_start: date
    period_end: date
    framework_version: str
    origin: str
    signed_off_at: str
    key_sha256: str
    levels: dict[int, int]  # capability -> current level (assessed capabilities only)
    targets: dict[int, int]
    next_planned: dict[int, int]  # capability -> the next level its plan reaches

    @classmethod
    def from_payload(cls, data: dict, origin: str, key_sha256: str = "") -> "CountryResults":
        assessed = [c for c in data["capabilities"] if c["assessed"]]
        planned: dict[int, int] = {}
        for step in data["plan"]:
            planned[step["capability"]] = min(planned.get(step["capability"], 5), step["to_level"])
        return cls(
            country=data["country"],
            period_start=date.fromisoformat(data["period_start"]),
            period_end=date.fromisoformat(data["period_end"]),
            framework_version=data["framework"]["version"],
            origin=origin,
            signed_off_at=data["signed_off"]["at"][:10],
            key_sha256=key_sha256,
            levels={c["number"]: c["current_level"] for c in assessed},
            targets={c["number"]: c["target_level"] for c in assessed},
            next_planned=planned,
        )


@dataclass(frozen=True)
class Cell:
    country: str
    level: int | None  # None: not assessed
    target: int | None


@dataclass(frozen=True)
class Row:
    number: int
    name: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class SharedGap:
    number: int
    name: str
    with_gap: tuple[str, ...]  # countries whose target is above their level
    assessed: int  # countries that assessed the capability


@dataclass(frozen=True)
class PeerLearning:
    """Countries that plan to reach ``level`` of a capability next, and those already there."""

    number: int
    name: str
    level: int
    level_name: str
    reached: tuple[str, ...]
    planning: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    framework: Framework
    countries: tuple[CountryResults, ...]
    elsewhere: tuple[CountryResults, ...]  # made against another framework version
    rows: tuple[Row, ...]
    shared_gaps: tuple[SharedGap, ...]
    peer_learning: tuple[PeerLearning, ...]
    versions: tuple[str, ...]

    def level_name(self, level: int) -> str:
        return self.framework.level(level).name


def latest_results(user) -> list[CountryResults]:
    """The latest signed results of each country: own signed-off cycles the user may see, and imports."""
    latest: dict[str, CountryResults] = {}

    def keep(candidate: CountryResults) -> None:
        key = candidate.country.casefold()
        if key not in latest or candidate.period_end > latest[key].period_end:
            latest[key] = candidate

    own = visible_cycles(user).filter(state=Cycle.State.SIGNED_OFF).order_by("country", "-period_end", "-pk")
    seen = set()
    for cycle in own:
        if cycle.country.casefold() in seen:
            continue
        seen.add(cycle.country.casefold())
        keep(CountryResults.from_payload(results_data(assess(cycle)), OWN))
    for row in ImportedResults.objects.order_by("country", "-period_end", "-pk"):
        keep(CountryResults.from_payload(row.payload, IMPORTED, row.key_sha256))
    return sorted(latest.values(), key=lambda r: r.country.casefold())


def compare(user, version: str | None = None) -> Comparison | None:
    """The comparison for one framework version (by default the one most countries used; on a tie
    the newest). None when no country has signed results yet."""
    results = latest_results(user)
    known = [r for r in results if _loads(r.framework_version)]
    if not known:
        return None
    counts = Counter(r.framework_version for r in known)
    versions = tuple(sorted(counts))
    if version not in counts:
        version = max(counts, key=lambda v: (counts[v], v))
    fw = framework(version)
    countries = tuple(r for r in known if r.framework_version == version)
    elsewhere = tuple(r for r in results if r.framework_version != version)
    rows = tuple(
        Row(
            number=cap.number,
            name=cap.name,
            cells=tuple(
                Cell(r.country, r.levels.get(cap.number), r.targets.get(cap.number)) for r in countries
            ),
        )
        for cap in fw.capabilities
    )
    return Comparison(
        framework=fw,
        countries=countries,
        elsewhere=elsewhere,
        rows=rows,
        shared_gaps=_shared_gaps(fw, countries),
        peer_learning=_peer_learning(fw, countries),
        versions=versions,
    )


def _loads(version: str) -> bool:
    try:
        framework(version)
    except FrameworkError:
        return False
    return True


def _shared_gaps(fw: Framework, countries) -> tuple[SharedGap, ...]:
    """Capabilities below target in at least two countries and at least half of those that assessed
    them, most widely shared first."""
    gaps = []
    for cap in fw.capabilities:
        assessed = [r for r in countries if cap.number in r.levels]
        with_gap = tuple(r.country for r in assessed if r.targets[cap.number] > r.levels[cap.number])
        if len(with_gap) >= 2 and 2 * len(with_gap) >= len(assessed):
            gaps.append(SharedGap(cap.number, cap.name, with_gap, len(assessed)))
    return tuple(sorted(gaps, key=lambda g: (-len(g.with_gap), g.number)))


def _peer_learning(fw: Framework, countries) -> tuple[PeerLearning, ...]:
    found = []
    for cap in fw.capabilities:
        for level in range(1, 5):
            planning = tuple(r.country for r in countries if r.next_planned.get(cap.number) == level)
            reached = tuple(r.country for r in countries if r.levels.get(cap.number, -1) >= level)
            if planning and reached:
                found.append(
                    PeerLearning(cap.number, cap.name, level, fw.level(level).name, reached, planning)
                )
    return tuple(found)
