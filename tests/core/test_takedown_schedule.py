"""The notice and monitoring schedule, and the removal rule, on an explicit clock."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.core.takedown.schedule import (
    Cadence,
    CaseState,
    Check,
    Event,
    ScheduleError,
    Status,
    Task,
    due,
    next_due_at,
    outcome_of,
    planned,
    record_check,
    record_escalation,
    record_notice,
    record_trace,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def opened(**changes) -> CaseState:
    """A case opened at T0 whose first trace is done."""
    return CaseState(opened_at=T0, last_traced_at=T0, **changes)


def tasks_due(state, now):
    return [task.task for task in due(state, now)]


def run(state, until, outcome=Check.ONLINE):
    """Carry out every due task until `until`, every check answering `outcome`; returns the final
    state and what happened when."""
    log = []
    while (moment := next_due_at(state)) is not None and moment <= until:
        for task in due(state, moment):
            log.append((task.task, moment))
            if task.task == Task.NOTICE:
                state = record_notice(state, moment)
            elif task.task == Task.ESCALATE:
                state = record_escalation(state, moment)
            elif task.task == Task.TRACE:
                state = record_trace(state, moment)
            else:
                state, _ = record_check(state, moment, outcome)
    return state, log


def test_first_notice_at_once_for_known_material_and_after_an_hour_otherwise():
    assert tasks_due(opened(known_material=True), T0) == [Task.NOTICE]
    other = opened()
    assert tasks_due(other, T0 + 59 * MIN) == []
    assert tasks_due(other, T0 + HOUR) == [Task.NOTICE]
    assert due(other, T0 + HOUR)[0].number == 1


def test_a_new_case_is_traced_at_once_then_every_12_hours():
    fresh = CaseState(opened_at=T0)
    assert tasks_due(fresh, T0) == [Task.TRACE]
    traced = record_trace(fresh, T0)
    assert tasks_due(traced, T0 + 11 * HOUR) == [Task.NOTICE, Task.CHECK]  # 1 h notice, 2 h checks
    assert Task.TRACE in tasks_due(traced, T0 + 12 * HOUR)


def test_notices_repeat_every_24_hours_and_escalate_once_after_three():
    state, log = run(opened(known_material=True), T0 + 4 * DAY)
    notices = [moment for task, moment in log if task == Task.NOTICE]
    assert notices == [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, T0 + 4 * DAY]
    assert [moment for task, moment in log if task == Task.ESCALATE] == [T0 + 3 * DAY]
    assert state.notices_sent == 5


def test_escalation_is_not_lost_when_the_repeat_is_recorded_first():
    state = opened(known_material=True)
    for day in range(4):
        state = record_notice(state, T0 + day * DAY)
    assert Task.ESCALATE in tasks_due(state, T0 + 3 * DAY)


def test_a_custom_cadence_changes_delays_and_escalation():
    cadence = Cadence(first_notice_other=timedelta(0), repeat_every=12 * HOUR, escalate_after=None)
    state = opened()
    assert [task.task for task in due(state, T0, cadence)] == [Task.NOTICE]
    state = record_notice(state, T0)
    for half_day in range(1, 6):
        state = record_notice(state, T0 + half_day * 12 * HOUR)
    assert Task.ESCALATE not in [task.task for task in planned(state, cadence)]


def test_checks_every_2_hours_and_every_30_minutes_for_6_hours_after_a_notice():
    _, log = run(opened(), T0 + 10 * HOUR)
    checks = [moment - T0 for task, moment in log if task == Task.CHECK]
    # Notice at 1 h; checks every 30 min from 1:30 to 7:00; then 2 h after the last one.
    fast = [HOUR + k * 30 * MIN for k in range(1, 13)]
    assert checks == fast + [9 * HOUR]


def test_removal_needs_three_misses_at_least_three_minutes_apart():
    state = opened(known_material=True)
    state = record_notice(state, T0)
    state, event = record_check(state, T0 + 30 * MIN, Check.GONE)
    assert event is None and tasks_due(state, T0 + 33 * MIN) == [Task.CHECK]  # re-check 3 min later
    state, event = record_check(state, T0 + 31 * MIN, Check.GONE)  # too soon: does not count
    assert event is None and len(state.misses) == 1
    state, event = record_check(state, T0 + 33 * MIN, Check.DNS_FAILURE)
    assert event is None
    state, event = record_check(state, T0 + 36 * MIN, Check.NO_MATCH)
    assert event == Event.REMOVED and state.status == Status.REMOVED
    assert state.removed_at == T0 + 30 * MIN  # when it was first seen gone
    assert state.confirmed_at == T0 + 36 * MIN


def test_online_breaks_the_run_and_inconclusive_does_not():
    state = opened()
    state, _ = record_check(state, T0 + HOUR, Check.GONE)
    state, _ = record_check(state, T0 + HOUR + 3 * MIN, Check.INCONCLUSIVE)
    state, _ = record_check(state, T0 + HOUR + 6 * MIN, Check.GONE)
    assert len(state.misses) == 2
    state, _ = record_check(state, T0 + HOUR + 9 * MIN, Check.ONLINE)
    assert state.misses == ()
    for minutes in (12, 15):
        state, event = record_check(state, T0 + HOUR + minutes * MIN, Check.GONE)
    assert event is None and state.status == Status.OPEN


def test_no_notice_while_a_removal_is_being_confirmed():
    state = record_notice(opened(known_material=True), T0)
    state = record_trace(state, T0 + DAY - MIN)
    state, _ = record_check(state, T0 + DAY - MIN, Check.GONE)
    assert tasks_due(state, T0 + DAY) == []
    state, _ = record_check(state, T0 + DAY + 2 * MIN, Check.ONLINE)
    assert tasks_due(state, T0 + DAY + 2 * MIN) == [Task.NOTICE]


def test_removed_content_is_watched_daily_and_its_return_reopens_the_case():
    state = record_notice(opened(), T0 + HOUR)
    for minutes in (90, 93, 96):
        state, event = record_check(state, T0 + minutes * MIN, Check.GONE)
    assert event == Event.REMOVED
    assert next_due_at(state) == T0 + 96 * MIN + DAY
    assert tasks_due(state, T0 + 96 * MIN + DAY) == [Task.CHECK]

    state, event = record_check(state, T0 + 96 * MIN + DAY, Check.ONLINE)
    assert event == Event.REOPENED and state.status == Status.OPEN and state.reopened == 1
    # Known material now: the first notice goes at once, and the host is traced again.
    assert tasks_due(state, T0 + 96 * MIN + DAY) == [Task.NOTICE, Task.TRACE]
    assert state.notices_sent == 0 and state.removed_at is None


def test_watch_after_removal_ends_after_30_days():
    state = opened()
    for minutes in (0, 3, 6):
        state, _ = record_check(state, T0 + minutes * MIN, Check.GONE)
    state, log = run(state, T0 + 60 * DAY, outcome=Check.GONE)
    assert len([task for task, _ in log if task == Task.CHECK]) == 30
    assert next_due_at(state) is None


def test_a_forwarded_case_is_monitored_but_gets_no_notice():
    _, log = run(opened(notify=False), T0 + 3 * DAY)
    assert {task for task, _ in log} == {Task.CHECK, Task.TRACE}


def test_state_survives_json():
    state = record_notice(opened(known_material=True), T0)
    state, _ = record_check(state, T0 + HOUR, Check.GONE)
    assert CaseState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


def test_impossible_inputs_are_refused():
    with pytest.raises(ScheduleError, match="timezone-aware"):
        CaseState(opened_at=datetime(2026, 11, 2, 9, 0))
    with pytest.raises(ScheduleError, match="must be positive"):
        Cadence(repeat_every=timedelta(0))
    with pytest.raises(ScheduleError, match="escalate_after"):
        Cadence(escalate_after=0)
    state = record_notice(opened(), T0 + HOUR)
    with pytest.raises(ScheduleError, match="earlier"):
        record_notice(state, T0 + 30 * MIN)
    with pytest.raises(ScheduleError, match="earlier"):
        record_check(state, T0 - MIN, Check.ONLINE)
    for minutes in (0, 3, 6):
        state, _ = record_check(state, T0 + 2 * HOUR + minutes * MIN, Check.GONE)
    with pytest.raises(ScheduleError, match="removal is confirmed"):
        record_notice(state, T0 + 3 * HOUR)
    with pytest.raises(ScheduleError, match="unknown check outcome"):
        record_check(state, T0 + 4 * HOUR, "maybe")
    with pytest.raises(ScheduleError, match="not a stored case state"):
        CaseState.from_dict({"opened_at": "yesterday"})


@pytest.mark.parametrize(
    ("seen", "outcome"),
    [
        ({"dns_failed": True}, Check.DNS_FAILURE),
        ({"http_status": 404}, Check.GONE),
        ({"http_status": 410}, Check.GONE),
        ({"http_status": 200, "media_matches": True}, Check.ONLINE),
        ({"http_status": 200}, Check.ONLINE),
        ({"http_status": 200, "media_matches": False}, Check.NO_MATCH),
        ({"http_status": 503}, Check.INCONCLUSIVE),
        ({"http_status": 403}, Check.INCONCLUSIVE),
        ({}, Check.INCONCLUSIVE),
    ],
)
def test_what_the_fetcher_saw_maps_to_a_check_outcome(seen, outcome):
    assert outcome_of(**seen) == outcome


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(list(Check)), min_size=1, max_size=30))
def test_removal_is_confirmed_exactly_at_the_third_consecutive_miss(outcomes):
    state, removed_at_index = opened(), None
    for index, outcome in enumerate(outcomes):
        state, event = record_check(state, T0 + index * 5 * MIN, outcome)
        if event == Event.REMOVED:
            removed_at_index = index
            break
    conclusive = [(index, outcome) for index, outcome in enumerate(outcomes) if outcome != Check.INCONCLUSIVE]
    expected = next(
        (
            conclusive[k + 2][0]
            for k in range(len(conclusive) - 2)
            if all(outcome != Check.ONLINE for _, outcome in conclusive[k : k + 3])
        ),
        None,
    )
    assert removed_at_index == expected
