"""Gap analysis and the action plan: pure functions over a framework and an assessment's levels.

The rules, in the words a national coordinator reads them in (docs/assessment.md has a worked example):

* The gap of a capability is its target level minus its current level, never below 0.
* A prerequisite is about one level of a capability: "level 2 of the hotline needs Legislation at
  level 2". A capability is *blocked* when a level it aims for (above its current level, up to its
  target) has a prerequisite that none of its alternatives meets yet.
* Prerequisites advise: a country may record a level it has reached without them (the assessment
  shows it as "ahead of its prerequisites"). Only a *hard* prerequisite refuses such a level.
* The plan raises each capability one level per action, from its current level to its target.
* Actions come in waves. Wave 0 holds what can start now; an action is in the wave after the last
  action it waits for (the previous level of the same capability, or a prerequisite reaching the level
  it needs; of several alternatives, the one the plan reaches first). So every prerequisite comes
  before what depends on it, and capabilities progress side by side, as they do in a country where
  different stakeholders own them.
* A step whose prerequisite this plan never reaches (that prerequisite's target is too low): when the
  prerequisite advises, the step is planned anyway and carries the warning (``not_planned``); when it
  is hard, the step and the levels above it are *held*, with the reason, so the coordinator can raise
  the target.
* Within a wave, actions are ordered by score = threat weight of the domain x (gap + number of other
  capabilities the action unblocks, directly or transitively), highest first; then by capability
  number and level, so the plan is always the same for the same input.
* An action is due ``period_days`` x (wave + 1) days after the start date (default 90 days: one level
  per capability per quarter).

Why waves rather than always picking the highest score next: with a plain "highest score first among
what is ready" rule, raising a domain's weight can move some of that domain's actions later (an action
of the domain jumps ahead of a prerequisite that another action of the same domain waits for). In
waves, which depend only on the prerequisites, a higher weight only ever moves a domain's actions
earlier, which is what a coordinator expects.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from openmnr.core.mnr.errors import MNRError
from openmnr.core.mnr.framework import LEVEL_NUMBERS, Capability, Criterion, Framework, Prerequisite

DEFAULT_PERIOD_DAYS = 90
DEFAULT_WEIGHT = 1.0
MAX_WEIGHT = 100.0


class PlanInputError(MNRError):
    """The assessment given to the planning functions does not fit the framework (unknown capability or
    criterion, level outside 0-4, bad weight or period)."""


@dataclass(frozen=True)
class CapabilityState:
    """What an assessment recorded for one capability. ``met`` holds criterion ids such as "12.2.a";
    ``owner`` is the responsible stakeholder."""

    current: int
    target: int
    met: frozenset[str] = field(default_factory=frozenset)
    owner: str = ""


@dataclass(frozen=True)
class Block:
    """Level ``for_level`` of ``capability`` needs one of ``needs`` ((capability, level) pairs), and
    none is there: ``levels`` says where each of them stands, now (in :func:`blocked`,
    :func:`skipped` and :attr:`Action.blocked_by`) or at the end of the plan (in :attr:`Plan.held`
    and :attr:`Action.not_planned`)."""

    capability: int
    for_level: int
    needs: tuple[tuple[int, int], ...]
    levels: tuple[int, ...]
    hard: bool = False

    @property
    def prerequisites(self) -> tuple[int, ...]:
        return tuple(n for n, _ in self.needs)


@dataclass(frozen=True)
class Action:
    """Raise ``capability`` from ``from_level`` to ``to_level`` (always one level).

    ``criteria`` are the criteria of ``to_level`` not yet met: the work to do. ``waits_for`` names the
    actions that must be done first, each as (capability, level it reaches). ``blocked_by`` gives the
    prerequisites of this step not met when the plan starts (the reason it waits); ``not_planned``
    those this plan never meets, so the step goes ahead on advice alone. ``unblocks`` lists the other
    capabilities that wait, directly or through others, for this action.
    """

    capability: int
    domain: str
    from_level: int
    to_level: int
    criteria: tuple[Criterion, ...]
    owner: str
    due: date
    wave: int
    score: float
    gap: int
    unblocks: tuple[int, ...]
    waits_for: tuple[tuple[int, int], ...]
    blocked_by: tuple[Block, ...] = ()
    not_planned: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The ordered actions, and the steps held by a hard prerequisite until a target is raised."""

    framework_version: str
    start: date
    period_days: int
    actions: tuple[Action, ...]
    held: tuple[Block, ...]


def gaps(framework: Framework, states: Mapping[int, CapabilityState]) -> dict[int, int]:
    """Target minus current level for every capability of the framework, floored at 0.

    A capability missing from ``states`` has not been assessed: it counts as level 0 with target 0.
    """
    checked = _check_states(framework, states)
    return {n: _gap(s) for n, s in checked.items()}


def blocked(framework: Framework, states: Mapping[int, CapabilityState]) -> dict[int, tuple[Block, ...]]:
    """The capabilities with a prerequisite not met now on a level they aim for (above the current
    level, up to the target), and why: what stands in the way of this cycle's targets."""
    checked = _check_states(framework, states)
    levels = {n: s.current for n, s in checked.items()}
    result = {}
    for capability in framework.capabilities:
        state = checked[capability.number]
        blocks = tuple(
            _block(p, levels)
            for p in framework.prerequisites_of(capability.number)
            if state.current < p.for_level <= state.target and not p.met_by(levels)
        )
        if blocks:
            result[capability.number] = blocks
    return result


def skipped(framework: Framework, states: Mapping[int, CapabilityState]) -> tuple[Block, ...]:
    """Prerequisites of levels already recorded that are not met: the capability is ahead of them.

    For an advising prerequisite that is information (countries do not always move in order); for a
    hard one it is a contradiction that the assessment must refuse (see :func:`violations`).
    """
    checked = _check_states(framework, states)
    levels = {n: s.current for n, s in checked.items()}
    return tuple(
        _block(p, levels)
        for p in framework.prerequisites
        if levels[p.capability] >= p.for_level and not p.met_by(levels)
    )


def violations(framework: Framework, states: Mapping[int, CapabilityState]) -> tuple[Block, ...]:
    """The hard prerequisites that recorded levels contradict."""
    return tuple(b for b in skipped(framework, states) if b.hard)


def action_plan(
    framework: Framework,
    states: Mapping[int, CapabilityState],
    *,
    start: date,
    weights: Mapping[str, float] | None = None,
    period_days: int = DEFAULT_PERIOD_DAYS,
) -> Plan:
    """The ordered action plan (see the module docstring for the rules).

    ``weights`` maps domain ids to the coordinator's threat weight for that domain (a positive number up
    to 100; a domain left out weighs 1).
    """
    checked = _check_states(framework, states)
    domain_weight = _check_weights(framework, weights)
    if not isinstance(start, date):
        raise PlanInputError(f"start must be a date, not {type(start).__name__}")
    if isinstance(period_days, bool) or not isinstance(period_days, int) or period_days < 1:
        raise PlanInputError(f"period_days must be a whole number of days, at least 1 (got {period_days!r})")

    now = {n: s.current for n, s in checked.items()}
    held: list[Block] = []
    # The level each capability stands at once the plan is done.
    reached: dict[int, int] = {}
    # Each step (capability, level it reaches) with the steps it waits for, prerequisites first.
    steps: dict[tuple[int, int], list[tuple[int, int]]] = {}
    wave: dict[tuple[int, int], int] = {}
    reasons: dict[tuple[int, int], tuple[list[Block], list[Block]]] = {}
    for number in framework.topological_order():  # every alternative is settled before its dependants
        state = checked[number]
        reached[number] = state.current
        for level in range(state.current + 1, state.target + 1):
            waits = [(number, level - 1)] if level - 1 > state.current else []
            blocked_by, not_planned, holds = [], [], []
            for p in framework.prerequisites_of(number):
                if p.for_level != level or p.met_by(now):
                    continue
                blocked_by.append(_block(p, now))
                planned = [
                    (wave[(r.capability, r.level)], r.capability, r.level)
                    for r in p.any_of
                    if reached[r.capability] >= r.level
                ]
                if planned:
                    _, n, lv = min(planned)  # the alternative the plan reaches first
                    waits.append((n, lv))
                else:
                    (holds if p.hard else not_planned).append(_block(p, reached))
            if holds:
                held.extend(holds)
                break  # this level and the ones above wait for a target to be raised
            steps[(number, level)] = waits
            wave[(number, level)] = max((wave[w] + 1 for w in waits), default=0)
            reasons[(number, level)] = (blocked_by, not_planned)
            reached[number] = level

    followers: dict[tuple[int, int], list[tuple[int, int]]] = {step: [] for step in steps}
    for step, waits in steps.items():
        for w in waits:
            followers[w].append(step)

    actions = []
    for (number, level), waits in steps.items():
        capability = framework.capability(number)
        state = checked[number]
        unblocks = tuple(sorted({n for n, _ in _downstream((number, level), followers)} - {number}))
        weight = domain_weight[capability.domain]
        base = _gap(state) + len(unblocks)
        step_wave = wave[(number, level)]
        try:
            due = start + timedelta(days=period_days * (step_wave + 1))
        except OverflowError:
            raise PlanInputError(
                "the plan would run past the year 9999: use an earlier start or a shorter period"
            ) from None
        blocked_by, not_planned = reasons[(number, level)]
        action = Action(
            capability=number,
            domain=capability.domain,
            from_level=level - 1,
            to_level=level,
            criteria=tuple(c for c in capability.criteria_at(level) if c.id not in state.met),
            owner=state.owner,
            due=due,
            wave=step_wave,
            score=weight * base,
            gap=_gap(state),
            unblocks=unblocks,
            waits_for=tuple(waits),
            blocked_by=tuple(blocked_by),
            not_planned=tuple(not_planned),
        )
        # Exact arithmetic, so that scaling a domain's weight can never create or break a tie by
        # rounding: this is what keeps a higher weight from moving an action later.
        actions.append(((step_wave, -Fraction(weight) * base, number, level), action))
    actions.sort(key=lambda pair: pair[0])
    return Plan(
        framework_version=framework.version,
        start=start,
        period_days=period_days,
        actions=tuple(action for _, action in actions),
        held=tuple(sorted(held, key=lambda b: (b.capability, b.for_level, b.needs))),
    )


def _block(p: Prerequisite, levels: Mapping[int, int]) -> Block:
    return Block(
        capability=p.capability,
        for_level=p.for_level,
        needs=tuple((r.capability, r.level) for r in p.any_of),
        levels=tuple(levels[r.capability] for r in p.any_of),
        hard=p.hard,
    )


def _gap(state: CapabilityState) -> int:
    return max(state.target - state.current, 0)


def _downstream(step, followers) -> set[tuple[int, int]]:
    """Every step that waits for ``step``, directly or through other steps."""
    seen: set[tuple[int, int]] = set()
    todo = list(followers[step])
    while todo:
        s = todo.pop()
        if s not in seen:
            seen.add(s)
            todo.extend(followers[s])
    return seen


def _check_states(framework: Framework, states: Mapping[int, CapabilityState]) -> dict[int, CapabilityState]:
    """Validate ``states`` against the framework and fill in unassessed capabilities as level 0, target 0."""
    if not isinstance(states, Mapping):
        raise PlanInputError(
            f"states must map capability numbers to CapabilityState, not {type(states).__name__}"
        )
    by_number: dict[int, Capability] = {c.number: c for c in framework.capabilities}
    for number, state in states.items():
        if number not in by_number:
            raise PlanInputError(f"framework {framework.version} has no capability {number!r}")
        if not isinstance(state, CapabilityState):
            raise PlanInputError(
                f"capability {number}: expected a CapabilityState, not {type(state).__name__}"
            )
        for name in ("current", "target"):
            value = getattr(state, name)
            if isinstance(value, bool) or value not in LEVEL_NUMBERS:
                raise PlanInputError(f"capability {number}: {name} level {value!r} is not one of 0-4")
        if not isinstance(state.met, set | frozenset):
            raise PlanInputError(f"capability {number}: met must be a set of criterion ids")
        known = {c.id for c in by_number[number].criteria}
        unknown = sorted(str(m) for m in state.met if m not in known)
        if unknown:
            raise PlanInputError(
                f"capability {number}: not criteria of this capability: {', '.join(unknown)}"
            )
        if not isinstance(state.owner, str):
            raise PlanInputError(f"capability {number}: owner must be text")
    return {n: states.get(n, CapabilityState(current=0, target=0)) for n in by_number}


def _check_weights(framework: Framework, weights: Mapping[str, float] | None) -> dict[str, float]:
    result = {d.id: DEFAULT_WEIGHT for d in framework.domains}
    for domain_id, weight in (weights or {}).items():
        if domain_id not in result:
            raise PlanInputError(f"framework {framework.version} has no domain {domain_id!r}")
        # A weight of 0 would tie every action of the domain and let its order flip when raised.
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 < weight <= MAX_WEIGHT
        ):
            raise PlanInputError(
                f"weight for {domain_id} must be a number above 0 and at most {MAX_WEIGHT:g}"
            )
        result[domain_id] = float(weight)
    return result
