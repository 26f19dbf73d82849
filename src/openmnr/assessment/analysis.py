"""Everything shown about a cycle, read in one place: the recorded levels, the gaps, the blocked
capabilities and the action plan (computed by ``openmnr.core.mnr``), progress since the previous
signed-off cycle, and the live indicators. The dashboard, the capability pages and the three exports
all read this, so they can never disagree.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from openmnr.core.mnr import (
    Block,
    CapabilityState,
    Domain,
    Framework,
    Indicator,
    Plan,
    action_plan,
    blocked,
    skipped,
)

from . import indicators
from .frameworks import framework_of
from .models import Cycle, Evidence


@dataclass(frozen=True)
class LiveFigure:
    """A live indicator and its value; ``value`` None means the platform has no data for it.
    ``failed`` means the provider broke; ``frozen`` that the value was fixed when the cycle was signed."""

    indicator: Indicator
    value: indicators.IndicatorValue | None
    failed: bool = False
    frozen: bool = False


@dataclass(frozen=True)
class CapabilityRow:
    number: int
    name: str
    domain: Domain
    description: str
    current: int
    target: int
    gap: int
    criteria_met: tuple[str, ...]
    criteria_level: int  # the level the criteria met support, which may differ from `current`
    confidence: str
    stakeholder: str
    assessed: bool
    blocks: tuple[Block, ...]  # prerequisites not met of the levels it aims for
    ahead: tuple[Block, ...]  # prerequisites not met of levels already recorded (advice it went past)
    previous: int | None  # level in the previous signed-off cycle, if that cycle assessed it
    live: tuple[LiveFigure, ...]
    evidence: tuple[Evidence, ...] = ()

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.current - self.previous

    @property
    def change_size(self) -> int:
        return abs(self.change or 0)


@dataclass(frozen=True)
class DomainView:
    domain: Domain
    weight: float
    contributors: tuple[str, ...]
    rows: tuple[CapabilityRow, ...]


@dataclass(frozen=True)
class Assessment:
    cycle: Cycle
    framework: Framework
    rows: tuple[CapabilityRow, ...]
    domains: tuple[DomainView, ...]
    plan: Plan
    previous: Cycle | None
    level_counts: dict[int, int] = field(default_factory=dict)

    @property
    def total_gap(self) -> int:
        return sum(row.gap for row in self.rows)

    @property
    def blocked_rows(self) -> tuple[CapabilityRow, ...]:
        return tuple(row for row in self.rows if row.blocks)

    @property
    def assessed_count(self) -> int:
        return sum(row.assessed for row in self.rows)

    def level_name(self, level: int) -> str:
        return next(lv.name for lv in self.framework.levels if lv.number == level)

    def row(self, number: int) -> CapabilityRow:
        return next(row for row in self.rows if row.number == number)

    def next_steps(self, count: int = 5) -> tuple:
        """The most important next steps: the first actions of the plan, which is ordered by
        prerequisites first and then by score."""
        return self.plan.actions[:count]

    @property
    def at_target_count(self) -> int:
        return sum(1 for row in self.rows if row.assessed and row.gap == 0)


def describe_needs(block: Block, framework: Framework, *, now: bool = True) -> str:
    """What a block waits for, in words: "3 Legislation at level 2 (it is at 1)", or several
    alternatives joined by "or". ``now`` says whether ``block.levels`` are today's levels or those the
    plan reaches."""
    verb = "it is at" if now else "the plan takes it to"
    return " or ".join(
        f"{n} {framework.capability(n).name} at level {needed} ({verb} {level})"
        for (n, needed), level in zip(block.needs, block.levels, strict=True)
    )


def plan_start(cycle: Cycle) -> date:
    """A signed-off plan starts the day it was signed off, so it never moves; a draft plan starts today."""
    return timezone.localdate(cycle.signed_off_at) if cycle.signed_off_at else timezone.localdate()


def previous_cycle(cycle: Cycle) -> Cycle | None:
    """The latest signed-off cycle of the same country that started before this one."""
    return (
        Cycle.objects.filter(
            country__iexact=cycle.country, state=Cycle.State.SIGNED_OFF, period_start__lt=cycle.period_start
        )
        .exclude(pk=cycle.pk)
        .order_by("-period_end", "-pk")
        .first()
    )


def live_figures(cycle: Cycle) -> dict[str, LiveFigure]:
    """Key -> figure for every live indicator of the cycle's framework. A signed-off cycle shows the
    values frozen when it was signed; an open one computes them now over its period."""
    figures = {}
    if cycle.signed_at is not None or cycle.signed_off:
        frozen = {s.key: s for s in cycle.live_snapshots.all()}
        for indicator in framework_of(cycle).live_indicators():
            snap = frozen.get(indicator.key)
            value = None
            if snap is not None:
                value = indicators.IndicatorValue(
                    snap.value,
                    snap.unit,
                    (snap.period_start, snap.period_end),
                    snap.computed_at,
                    snap.source_url,
                    snap.note,
                )
            figures[indicator.key] = LiveFigure(indicator, value, frozen=True)
        return figures
    for indicator in framework_of(cycle).live_indicators():
        try:
            value = indicators.compute(indicator.key, cycle.period_start, cycle.period_end)
            figures[indicator.key] = LiveFigure(indicator, value)
        except indicators.ProviderFailed:
            figures[indicator.key] = LiveFigure(indicator, None, failed=True)
    return figures


def assess(cycle: Cycle, *, with_evidence: bool = False) -> Assessment:
    framework = framework_of(cycle)
    records = {r.capability: r for r in cycle.capabilities.all()}
    states = {
        n: CapabilityState(r.current_level, r.target_level, frozenset(r.criteria_met), r.stakeholder)
        for n, r in records.items()
    }
    blocks = blocked(framework, states)
    ahead: dict[int, list[Block]] = {}
    for block in skipped(framework, states):
        ahead.setdefault(block.capability, []).append(block)
    previous = previous_cycle(cycle)
    before = {}
    if previous is not None:
        before = {
            r.capability: r.current_level for r in previous.capabilities.all() if r.updated_at is not None
        }
    live = live_figures(cycle)
    evidence: dict[int, list[Evidence]] = {}
    if with_evidence:
        for item in Evidence.objects.filter(assessment__cycle=cycle).select_related("assessment"):
            evidence.setdefault(item.assessment.capability, []).append(item)

    rows = []
    for capability in framework.capabilities:
        record = records[capability.number]
        rows.append(
            CapabilityRow(
                number=capability.number,
                name=capability.name,
                domain=framework.domain(capability.domain),
                description=capability.description,
                current=record.current_level,
                target=record.target_level,
                gap=max(record.target_level - record.current_level, 0),
                criteria_met=tuple(record.criteria_met),
                criteria_level=capability.level_met(frozenset(record.criteria_met)),
                confidence=record.get_confidence_display() if record.confidence else "",
                stakeholder=record.stakeholder,
                assessed=record.assessed,
                blocks=blocks.get(capability.number, ()),
                ahead=tuple(ahead.get(capability.number, ())),
                previous=before.get(capability.number),
                live=tuple(live[i.key] for i in capability.indicators if i.live),
                evidence=tuple(evidence.get(capability.number, ())),
            )
        )

    domain_rows = {d.domain: d for d in cycle.domains.prefetch_related("contributors")}
    domains = tuple(
        DomainView(
            domain=domain,
            weight=domain_rows[domain.id].weight,
            contributors=tuple(sorted(u.get_username() for u in domain_rows[domain.id].contributors.all())),
            rows=tuple(r for r in rows if r.domain.id == domain.id),
        )
        for domain in framework.domains
    )
    plan = action_plan(
        framework,
        states,
        start=plan_start(cycle),
        weights={d.domain.id: d.weight for d in domains},
    )
    counts = {level.number: 0 for level in framework.levels}
    for row in rows:
        counts[row.current] += 1
    return Assessment(cycle, framework, tuple(rows), domains, plan, previous, counts)
