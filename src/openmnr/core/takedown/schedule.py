"""The notice, escalation, availability-check and trace schedule of one case, and the removal rule.

The same code runs in the Django app and in bench/takedown_sim.py, so the cadence the simulation
recommends is the cadence the hotline runs. Everything here is a pure function of a small frozen
`CaseState`, a `Cadence` and the time: the caller passes `now` (the injectable clock), performs
what `due()` returns, in the order given, and records each result with the matching `record_*`
function, which returns the new state. `next_due_at()` says when to look at the case again.

The rules (defaults in Cadence):
- First notice: at once for known material (a hash-list match), 1 h after the case opens otherwise,
  which leaves time for a second look before anything leaves the hotline (SCARt does the same).
- Repeat: every 24 h after the last notice, until removal is confirmed.
- Escalation: once, when `escalate_after` (3) notices went unanswered for a full repeat period.
- No notice or escalation goes out while a removal is being confirmed (a miss is pending).
- Availability checks: every 2 h; for 6 h after each notice every 30 min, because hosts that act
  mostly act soon after a notice, and a removal seen early shortens the measured time.
- Removal: 3 consecutive misses (404/410, DNS failure, or media no longer matching), each at least
  3 min after the previous one; after a miss the next check comes 3 min later. An inconclusive
  check (timeout, 5xx, other statuses) neither counts as a miss nor breaks the run. The removal
  time is the first miss of the run; the confirmation time is the last.
- After removal: one check a day for 30 days; content seen again reopens the case as known
  material (first notice at once) and starts the notice count afresh.
- Trace: at once when the case opens or reopens (content back may be on another host), then every
  12 h while the case is open (a change of host re-routes the case).
- A case forwarded to a partner hotline (`notify=False`) gets checks and traces, no notices.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple

from openmnr.core.takedown import TakedownError


class ScheduleError(TakedownError):
    """A cadence, state or recorded time that cannot be right (negative interval, naive datetime,
    time running backwards, a notice for a removed case)."""


class Status(StrEnum):
    OPEN = "open"
    REMOVED = "removed"


class Task(StrEnum):
    NOTICE = "notice"
    ESCALATE = "escalate"
    CHECK = "check"
    TRACE = "trace"


class Check(StrEnum):
    """The outcome of one availability check."""

    ONLINE = "online"
    GONE = "gone"  # HTTP 404 or 410
    DNS_FAILURE = "dns_failure"
    NO_MATCH = "no_match"  # fetched, but the reported media are no longer there
    INCONCLUSIVE = "inconclusive"  # timeout, refused, 5xx, other statuses: says nothing


class Event(StrEnum):
    REMOVED = "removed"
    REOPENED = "reopened"


@dataclass(frozen=True)
class Cadence:
    first_notice_known: timedelta = timedelta(0)
    first_notice_other: timedelta = timedelta(hours=1)
    repeat_every: timedelta = timedelta(hours=24)
    escalate_after: int | None = 3  # None: never escalate
    check_every: timedelta = timedelta(hours=2)
    check_every_after_notice: timedelta = timedelta(minutes=30)
    fast_window: timedelta = timedelta(hours=6)
    misses_to_confirm: int = 3
    miss_spacing: timedelta = timedelta(minutes=3)
    recheck_after_removal: timedelta = timedelta(hours=24)
    watch_after_removal: timedelta = timedelta(days=30)
    retrace_every: timedelta = timedelta(hours=12)

    def __post_init__(self):
        for name in (
            "first_notice_known",
            "first_notice_other",
            "fast_window",
            "miss_spacing",
            "watch_after_removal",
        ):
            if getattr(self, name) < timedelta(0):
                raise ScheduleError(f"cadence: {name} must not be negative")
        for name in (
            "repeat_every",
            "check_every",
            "check_every_after_notice",
            "recheck_after_removal",
            "retrace_every",
        ):
            if getattr(self, name) <= timedelta(0):
                raise ScheduleError(f"cadence: {name} must be positive")
        if self.escalate_after is not None and self.escalate_after < 1:
            raise ScheduleError("cadence: escalate_after must be at least 1, or None")
        if self.misses_to_confirm < 1:
            raise ScheduleError("cadence: misses_to_confirm must be at least 1")


DEFAULT_CADENCE = Cadence()


@dataclass(frozen=True)
class CaseState:
    """What the schedule needs to know about a case. Store it with to_dict(); never edit it by hand:
    the record_* functions return the next state."""

    opened_at: datetime
    known_material: bool = False
    notify: bool = True
    status: Status = Status.OPEN
    notices_sent: int = 0
    last_notice_at: datetime | None = None
    escalated_at: datetime | None = None
    last_check_at: datetime | None = None
    misses: tuple[datetime, ...] = ()
    removed_at: datetime | None = None
    confirmed_at: datetime | None = None
    last_traced_at: datetime | None = None
    reopened: int = 0

    def __post_init__(self):
        if self.opened_at.tzinfo is None:
            raise ScheduleError("opened_at must be timezone-aware")

    def to_dict(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        data["misses"] = [moment.isoformat() for moment in self.misses]
        data["status"] = str(self.status)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "CaseState":
        """Raises ScheduleError for data that to_dict() did not write."""
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ScheduleError(f"not a stored case state: {exc!r}") from None

    @classmethod
    def _from_dict(cls, data: dict) -> "CaseState":
        values = dict(data)
        for key in (
            "opened_at",
            "last_notice_at",
            "escalated_at",
            "last_check_at",
            "removed_at",
            "confirmed_at",
            "last_traced_at",
        ):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key])
        values["misses"] = tuple(datetime.fromisoformat(moment) for moment in values.get("misses", ()))
        values["status"] = Status(values.get("status", Status.OPEN))
        return cls(**values)


def _evolve(state: CaseState, **changes) -> CaseState:
    """A copy of `state` with `changes`. dataclasses.replace would re-run __init__ and __post_init__
    on values already checked, at several times the cost, and the simulation records millions of
    checks; the state stays immutable either way."""
    new = object.__new__(CaseState)
    new.__dict__.update(state.__dict__, **changes)
    return new


class Due(NamedTuple):
    """A task and when it falls due. A named tuple because planned() builds several per call."""

    task: Task
    at: datetime  # when the task falls (or fell) due
    number: int = 0  # for a notice: 1 for the first, 2 for the first repeat, ...


def planned(state: CaseState, cadence: Cadence = DEFAULT_CADENCE) -> list[Due]:
    """The next time of each task that is still to come, earliest first (due or not yet)."""
    tasks: list[Due] = []
    if state.status == Status.OPEN:
        if state.notify and not state.misses:
            if state.notices_sent == 0:
                delay = cadence.first_notice_known if state.known_material else cadence.first_notice_other
                tasks.append(Due(Task.NOTICE, state.opened_at + delay, 1))
            else:
                tasks.append(
                    Due(Task.NOTICE, state.last_notice_at + cadence.repeat_every, state.notices_sent + 1)
                )
                if (
                    cadence.escalate_after is not None
                    and state.escalated_at is None
                    and state.notices_sent >= cadence.escalate_after
                ):
                    # Due with the next repeat; overdue at once if that repeat was recorded first.
                    at = state.last_notice_at
                    if state.notices_sent == cadence.escalate_after:
                        at += cadence.repeat_every
                    tasks.append(Due(Task.ESCALATE, at))
        tasks.append(Due(Task.CHECK, _next_check_open(state, cadence)))
        if state.last_traced_at is None:
            tasks.append(Due(Task.TRACE, state.opened_at))
        else:
            tasks.append(Due(Task.TRACE, state.last_traced_at + cadence.retrace_every))
    else:
        next_check = state.last_check_at + cadence.recheck_after_removal
        if next_check <= state.confirmed_at + cadence.watch_after_removal:
            tasks.append(Due(Task.CHECK, next_check))
    tasks.sort(key=attrgetter("at"))
    return tasks


def _next_check_open(state: CaseState, cadence: Cadence) -> datetime:
    if state.misses:
        return state.misses[-1] + cadence.miss_spacing
    last = state.last_check_at or state.opened_at
    at = last + cadence.check_every
    if state.last_notice_at is not None and last < state.last_notice_at + cadence.fast_window:
        at = min(at, max(last, state.last_notice_at) + cadence.check_every_after_notice)
    return at


def due(state: CaseState, now: datetime, cadence: Cadence = DEFAULT_CADENCE) -> list[Due]:
    """The tasks to perform at `now`: those whose time has come, earliest first."""
    return [task for task in planned(state, cadence) if task.at <= now]


def next_due_at(state: CaseState, cadence: Cadence = DEFAULT_CADENCE) -> datetime | None:
    """When the next task falls due; None when the case needs nothing more (removal watch over)."""
    tasks = planned(state, cadence)
    return tasks[0].at if tasks else None


def _check_time(state: CaseState, at: datetime, previous: datetime | None, what: str) -> None:
    if at.tzinfo is None:
        raise ScheduleError(f"{what} time must be timezone-aware")
    if at < state.opened_at or (previous is not None and at < previous):
        raise ScheduleError(f"{what} at {at.isoformat()} is earlier than the case's previous {what}")


def record_notice(state: CaseState, at: datetime) -> CaseState:
    """A notice went out at `at`."""
    if state.status != Status.OPEN:
        raise ScheduleError("no notice for a case whose removal is confirmed")
    _check_time(state, at, state.last_notice_at, "notice")
    return _evolve(state, notices_sent=state.notices_sent + 1, last_notice_at=at)


def record_escalation(state: CaseState, at: datetime) -> CaseState:
    _check_time(state, at, state.last_notice_at, "escalation")
    return _evolve(state, escalated_at=at)


def record_trace(state: CaseState, at: datetime) -> CaseState:
    _check_time(state, at, state.last_traced_at, "trace")
    return _evolve(state, last_traced_at=at)


def record_check(
    state: CaseState, at: datetime, outcome: Check, cadence: Cadence = DEFAULT_CADENCE
) -> tuple[CaseState, Event | None]:
    """Apply one check's outcome. Returns the new state and Event.REMOVED when this check confirms
    the removal, Event.REOPENED when content thought removed is back, else None."""
    if not isinstance(outcome, Check):
        try:
            outcome = Check(outcome)
        except ValueError:
            raise ScheduleError(f"unknown check outcome {outcome!r}") from None
    _check_time(state, at, state.last_check_at, "check")
    if outcome == Check.INCONCLUSIVE:
        return _evolve(state, last_check_at=at), None

    if state.status == Status.REMOVED:
        if outcome == Check.ONLINE:
            reopened = CaseState(
                opened_at=at,
                known_material=True,
                notify=state.notify,
                last_check_at=at,
                reopened=state.reopened + 1,
            )
            return reopened, Event.REOPENED
        return _evolve(state, last_check_at=at), None

    if outcome == Check.ONLINE:
        return _evolve(state, last_check_at=at, misses=()), None
    if state.misses and at - state.misses[-1] < cadence.miss_spacing:
        return _evolve(state, last_check_at=at), None  # too close to the previous miss to count
    misses = state.misses + (at,)
    if len(misses) >= cadence.misses_to_confirm:
        removed = _evolve(
            state, last_check_at=at, status=Status.REMOVED, misses=(), removed_at=misses[0], confirmed_at=at
        )
        return removed, Event.REMOVED
    return _evolve(state, last_check_at=at, misses=misses), None


def outcome_of(
    *, http_status: int | None = None, dns_failed: bool = False, media_matches: bool | None = None
) -> Check:
    """Map what the fetcher saw to a check outcome.

    dns_failed: the name no longer resolves. http_status: the final status, None if no response
    came. media_matches: for a 2xx answer, whether the reported media are still there (None when
    the caller did not compare, which counts as online: no evidence of removal).
    """
    if dns_failed:
        return Check.DNS_FAILURE
    if http_status in (404, 410):
        return Check.GONE
    if http_status is not None and 200 <= http_status < 300:
        return Check.NO_MATCH if media_matches is False else Check.ONLINE
    return Check.INCONCLUSIVE
