"""Gap analysis and the action plan: pure functions over a framework and an assessment's levels.

The rules, in the words a national coordinator reads them in (docs/assessment.md has a worked example):

* The gap of a capability is its target level minus its current level, never below 0.
* A capability is blocked while one of its prerequisites is below the level the prerequisite needs.
* The plan raises each capability one level per action, from its current level to its target.
* Actions come in waves. Wave 0 holds what can start now; an action is in the wave after the last
  action it waits for (the previous level of the same capability, or a prerequisite reaching the level
  it needs). So every prerequisite comes before what depends on it, and capabilities progress side by
  side, as they do in a country where different stakeholders own them.
* Within a wave, actions are ordered by score = threat weight of the domain x (gap + number of other
  capabilities the action unblocks, directly or transitively), highest first; then by capability
  number and level, so the plan is always the same for the same input.
* An action is due ``period_days`` x (wave + 1) days after the start date (default 90 days: one level
  per capability per quarter).
* A capability whose prerequisite will not reach the level it needs, because that prerequisite's
  target is too low, is not planned: it is listed as held, with the reason, so the coordinator can
  raise the target.

Why waves rather than always picking the highest score next: with a plain "highest score first among
what is ready" rule, raising a domain's weight can move some of that domain's actions later (an action
of the domain jumps ahead of a prerequisite that another action of the same domain waits for). In
waves, a higher weight only ever moves a domain's actions earlier, which is what a coordinator expects.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from openmnr.core.mnr.framework import LEVEL_NUMBERS, Capability, Criterion, Framework, MNRError

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
    """Capability ``capability`` waits for capability ``prerequisite`` to reach ``needed_level``;
    ``level`` is where the prerequisite is now (in :func:`blocked`) or will be at the end of the plan
    (in :attr:`Plan.held`)."""

    capability: int
    prerequisite: int
    needed_level: int
    level: int


@dataclass(frozen=True)
class Action:
    """Raise ``capability`` from ``from_level`` to ``to_level`` (always one level).

    ``criteria`` are the criteria of ``to_level`` not yet met: the work to do. ``waits_for`` names the
    actions that must be done first, each as (capability, level it reaches). ``unblocks`` lists the
    other capabilities that wait, directly or through others, for this action.
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


@dataclass(frozen=True)
class Plan:
    """The ordered actions, and the capabilities that cannot be planned until a target is raised."""

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
    """The capabilities with at least one prerequisite below the level it needs, and why."""
    checked = _check_states(framework, states)
    result = {}
    for capability in framework.capabilities:
        blocks = tuple(
            Block(capability.number, p.requires, p.level, checked[p.requires].current)
            for p in framework.prerequisites_of(capability.number)
            if checked[p.requires].current < p.level
        )
        if blocks:
            result[capability.number] = blocks
    return result


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

    held: list[Block] = []
    # The level each capability stands at once the plan is done; a held capability stays where it is.
    reached: dict[int, int] = {}
    # Each step (capability, level it reaches) with the steps it waits for, prerequisites first.
    steps: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for number in framework.topological_order():
        state = checked[number]
        holds = [
            Block(number, p.requires, p.level, reached[p.requires])
            for p in framework.prerequisites_of(number)
            if reached[p.requires] < p.level
        ]
        if _gap(state) and holds:
            held.extend(holds)
        if _gap(state) == 0 or holds:
            reached[number] = state.current
            continue
        reached[number] = state.target
        for level in range(state.current + 1, state.target + 1):
            if level == state.current + 1:
                # Prerequisites already at the needed level impose nothing.
                steps[(number, level)] = [
                    (p.requires, p.level)
                    for p in framework.prerequisites_of(number)
                    if checked[p.requires].current < p.level
                ]
            else:
                steps[(number, level)] = [(number, level - 1)]

    wave: dict[tuple[int, int], int] = {}
    for step, waits in steps.items():  # insertion order is a topological order
        wave[step] = max((wave[w] + 1 for w in waits), default=0)

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
        held=tuple(sorted(held, key=lambda b: (b.capability, b.prerequisite))),
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
