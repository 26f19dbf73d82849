"""Gap analysis and the action plan: worked cases, bad input, properties over random assessments, and the
worked example in docs/assessment.md."""

import contextlib
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from openmnr.core.mnr import (
    Block,
    CapabilityState,
    MNRError,
    PlanInputError,
    action_plan,
    blocked,
    gaps,
    load_framework,
)

FRAMEWORK = load_framework()
START = date(2026, 1, 1)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "assessment.md"
S = CapabilityState


def steps(plan):
    """The plan as (capability, level reached) in order."""
    return [(a.capability, a.to_level) for a in plan.actions]


def test_gap_is_target_minus_current_never_negative():
    result = gaps(FRAMEWORK, {12: S(1, 3), 16: S(3, 2), 7: S(2, 2)})
    assert result[12] == 2
    assert result[16] == 0
    assert result[7] == 0
    # Capabilities not assessed count as level 0 with target 0.
    assert result[1] == 0
    assert sorted(result) == list(range(1, 22))


def test_blocked_names_each_prerequisite_below_the_level_it_needs():
    result = blocked(FRAMEWORK, {3: S(1, 3), 4: S(2, 3), 12: S(0, 3), 21: S(1, 2)})
    assert result[12] == (Block(capability=12, prerequisite=3, needed_level=2, level=1),)
    assert Block(capability=7, prerequisite=3, needed_level=2, level=1) in result[7]
    assert 3 not in result  # 21 is at the level 3 needs
    assert 4 not in result  # no prerequisites


def test_prerequisites_come_first_and_each_action_is_one_level():
    states = {
        3: S(1, 2, owner="Ministry of Justice"),
        4: S(1, 1),
        12: S(0, 2, owner="Hotline"),
        21: S(1, 1),
    }
    plan = action_plan(FRAMEWORK, states, start=START)
    assert steps(plan) == [(3, 2), (12, 1), (12, 2)]
    legislation, first, second = plan.actions
    assert (legislation.from_level, legislation.to_level) == (1, 2)
    assert legislation.unblocks == (12,)
    assert legislation.owner == "Ministry of Justice"
    assert first.waits_for == ((3, 2),)
    assert second.waits_for == ((12, 1),)
    assert [a.due for a in plan.actions] == [date(2026, 4, 1), date(2026, 6, 30), date(2026, 9, 28)]
    assert plan.held == ()


def test_an_action_lists_the_unmet_criteria_of_the_next_level():
    plan = action_plan(
        FRAMEWORK,
        {12: S(1, 2, frozenset({"12.1.a", "12.1.b", "12.2.b"})), 3: S(2, 2), 4: S(1, 1)},
        start=START,
    )
    (action,) = plan.actions
    assert [c.id for c in action.criteria] == ["12.2.a", "12.2.c"]


def test_a_capability_whose_prerequisite_target_is_too_low_is_held_not_planned():
    # 12 needs 3 at level 2, but the coordinator only aims 3 at level 1; 16 waits for 12 in turn.
    plan = action_plan(
        FRAMEWORK, {3: S(0, 1), 4: S(1, 1), 21: S(1, 1), 12: S(0, 3), 16: S(0, 2)}, start=START
    )
    assert steps(plan) == [(3, 1)]
    assert plan.held == (
        Block(capability=12, prerequisite=3, needed_level=2, level=1),
        Block(capability=16, prerequisite=12, needed_level=2, level=0),
    )


def test_score_orders_actions_within_a_wave():
    # 4 and 3 can both start now; 3 unblocks 12, so it goes first at equal weight.
    states = {3: S(1, 2), 4: S(1, 2), 12: S(2, 3), 16: S(2, 3), 21: S(1, 1)}
    plan = action_plan(FRAMEWORK, states, start=START)
    assert steps(plan)[:2] == [(3, 2), (4, 2)]
    # A coordinator who weighs Criminal Justice threats four times higher sees 4 first.
    plan = action_plan(FRAMEWORK, states, start=START, weights={"criminal-justice": 4})
    assert steps(plan)[:2] == [(4, 2), (3, 2)]


@pytest.mark.parametrize(
    "states, weights, period",
    [
        ({99: S(0, 1)}, None, 90),
        ({12: S(0, 5)}, None, 90),
        ({12: S(-1, 2)}, None, 90),
        ({12: S(True, 2)}, None, 90),
        ({12: S(0, 2, frozenset({"16.1.a"}))}, None, 90),
        ({12: S(0, 2, frozenset({"12.9.z"}))}, None, 90),
        ({12: S(0, 2, "12.1.a")}, None, 90),
        ({12: (0, 2)}, None, 90),
        ([S(0, 2)], None, 90),
        ({12: S(0, 2)}, {"nowhere": 1.0}, 90),
        ({12: S(0, 2)}, {"societal": 0}, 90),
        ({12: S(0, 2)}, {"societal": -1}, 90),
        ({12: S(0, 2)}, {"societal": float("nan")}, 90),
        ({12: S(0, 2)}, {"societal": 101}, 90),
        ({12: S(0, 2)}, {"societal": "high"}, 90),
        ({12: S(0, 2)}, None, 0),
        ({12: S(0, 2)}, None, 1.5),
    ],
)
def test_bad_input_gets_a_typed_error(states, weights, period):
    with pytest.raises(PlanInputError):
        action_plan(FRAMEWORK, states, start=START, weights=weights, period_days=period)
    assert issubclass(PlanInputError, MNRError)


def test_start_must_be_a_date_and_the_plan_must_end_before_year_9999():
    with pytest.raises(PlanInputError):
        action_plan(FRAMEWORK, {12: S(0, 2)}, start="2026-01-01")
    with pytest.raises(PlanInputError, match="9999"):
        action_plan(FRAMEWORK, {12: S(0, 4), 3: S(2, 2), 4: S(1, 1)}, start=START, period_days=10**6)


# --- properties over random assessments -------------------------------------------------------------

DOMAINS = [d.id for d in FRAMEWORK.domains]
levels = st.integers(0, 4)
weights = st.dictionaries(st.sampled_from(DOMAINS), st.floats(min_value=0, max_value=100, exclude_min=True))


@st.composite
def assessments(draw):
    states = {}
    # Small assessments too: with few capabilities, orderings that only a few actions compete for show up.
    left_out = draw(st.sampled_from([0.1, 0.5, 0.8]))
    for capability in FRAMEWORK.capabilities:
        if draw(st.floats(0, 1)) < left_out:
            continue  # not assessed
        met = draw(st.frozensets(st.sampled_from([c.id for c in capability.criteria]), max_size=5))
        states[capability.number] = S(
            draw(levels), draw(levels), met, draw(st.sampled_from(["", "Ministry", "Police"]))
        )
    return states


def state_of(states, number):
    return states.get(number, S(0, 0))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(assessments(), weights)
def test_no_action_without_a_gap_and_one_level_per_action(states, weights):
    plan = action_plan(FRAMEWORK, states, start=START, weights=weights)
    held = {b.capability for b in plan.held}
    gap = gaps(FRAMEWORK, states)
    for capability in FRAMEWORK.capabilities:
        n = capability.number
        state = state_of(states, n)
        planned = [a for a in plan.actions if a.capability == n]
        if gap[n] == 0:
            assert not planned
            assert n not in held
        elif n in held:
            assert not planned
        else:
            # Every level from current to target, each once, in order.
            assert [(a.from_level, a.to_level) for a in planned] == [
                (level, level + 1) for level in range(state.current, state.target)
            ]
        for a in planned:
            assert a.gap == gap[n]
            assert [c.id for c in a.criteria] == [
                c.id for c in capability.criteria_at(a.to_level) if c.id not in state.met
            ]
            assert a.owner == state.owner


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(assessments(), weights, st.integers(1, 365))
def test_every_action_comes_after_and_is_due_after_what_it_waits_for(states, weights, period):
    plan = action_plan(FRAMEWORK, states, start=START, weights=weights, period_days=period)
    position = {step: i for i, step in enumerate(steps(plan))}
    due = {(a.capability, a.to_level): a.due for a in plan.actions}
    for i, action in enumerate(plan.actions):
        assert action.due == START + timedelta(days=period * (action.wave + 1))
        for waited in action.waits_for:
            assert position[waited] < i
            # It starts one period before it is due, so what it waits for is due by then.
            assert due[waited] <= action.due - timedelta(days=period)
    assert [a.due for a in plan.actions] == sorted(a.due for a in plan.actions)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(assessments(), weights)
def test_a_blocked_capability_is_never_scheduled_before_its_blocker_reaches_the_level(states, weights):
    plan = action_plan(FRAMEWORK, states, start=START, weights=weights)
    position = {step: i for i, step in enumerate(steps(plan))}
    wave = {(a.capability, a.to_level): a.wave for a in plan.actions}
    for number, blocks in blocked(FRAMEWORK, states).items():
        own = [(a.capability, a.to_level) for a in plan.actions if a.capability == number]
        for block in blocks:
            reaching = (block.prerequisite, block.needed_level)
            if reaching not in position:
                # The blocker never gets there, so nothing of the blocked capability is planned.
                assert not own
                continue
            for step in own:
                assert position[reaching] < position[step]
                assert wave[reaching] < wave[step]
    for block in plan.held:
        assert block.level < block.needed_level


@settings(max_examples=60, deadline=None)
@given(assessments(), weights, st.sampled_from(DOMAINS), st.floats(min_value=0, max_value=1))
# The trap of a plain "highest score first among ready actions" rule: raising Societal puts 13 ahead of
# Legislation (3), which then delays the hotline step (12) that waits for Legislation.
@pytest.mark.slow
@example({3: S(1, 2), 4: S(1, 1), 12: S(1, 2), 13: S(0, 1), 21: S(1, 1)}, {}, "societal", 0.02)
def test_raising_a_domain_weight_never_moves_its_actions_later(states, weights, domain, rise):
    before_weight = weights.get(domain, 1.0)
    raised = dict(weights)
    raised[domain] = before_weight + rise * (100 - before_weight)
    before = action_plan(FRAMEWORK, states, start=START, weights=weights)
    after = action_plan(FRAMEWORK, states, start=START, weights=raised)
    position_before = {step: i for i, step in enumerate(steps(before))}
    position_after = {step: i for i, step in enumerate(steps(after))}
    assert position_before.keys() == position_after.keys()
    for action in before.actions:
        if action.domain == domain:
            step = (action.capability, action.to_level)
            assert position_after[step] <= position_before[step]


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(assessments(), weights)
def test_the_plan_does_not_depend_on_input_order(states, weights):
    plan = action_plan(FRAMEWORK, states, start=START, weights=weights)
    shuffled = {
        n: S(s.current, s.target, frozenset(sorted(s.met, reverse=True)), s.owner)
        for n, s in reversed(states.items())
    }
    again = action_plan(FRAMEWORK, shuffled, start=START, weights=dict(reversed(weights.items())))
    assert again == plan


# --- the worked example in the documentation ----------------------------------------------------------


def test_the_worked_example_in_the_docs_is_the_real_output():
    text = DOCS.read_text(encoding="utf-8")
    code, output = re.search(r"```python\n(# Examplestan.*?)```.*?```text\n(.*?)```", text, re.S).groups()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    assert printed.getvalue() == output
