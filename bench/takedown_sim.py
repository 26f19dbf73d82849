"""Simulate notice and takedown under several cadences, through the real scheduling code.

10,000 synthetic reports are spread over providers whose response behaviours are configured below
(responsive hosts, slow abuse desks, hosts that act only after several notices or after
escalation, hosts that never act, uploaders who delete on their own, and content that comes back).
Each case runs on a virtual clock through openmnr.core.takedown.schedule exactly as the app runs it:
the simulation only plays the host (deciding when the content goes down) and the fetcher (answering
each check with what is online at that moment). Removal times are what the hotline observes, i.e.
the first miss of the confirming run, and the measures come from openmnr.core.takedown.stats.

Every cadence sees the same cases and the same host draws (common random numbers), so differences
between rows come from the cadence alone. The behaviours are assumptions, not measurements: the
table shows what the cadence changes under them, not what real hosts do.

Hosts that never act are not run past the time of their first notice: their content is online at
the 42-day horizon whatever the cadence. Content that will not come back is not watched after its
removal is confirmed. Cadences run in parallel processes (--workers, default 2).

    .venv/bin/python bench/takedown_sim.py [--cases N] [--seed S] [--workers W]

Prints a table and writes bench/results/takedown_sim.json.
"""

import argparse
import json
import math
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import repeat
from pathlib import Path

from openmnr.core.takedown.schedule import (
    DEFAULT_CADENCE,
    Cadence,
    CaseState,
    Check,
    Event,
    Status,
    Task,
    planned,
    record_check,
    record_escalation,
    record_notice,
    record_trace,
)
from openmnr.core.takedown.stats import CaseRecord, breakdown

HOUR = timedelta(hours=1)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # each case is independent; all start on the same clock
HORIZON = timedelta(days=42)  # Project Arachnid still finds 10 % online after 42 days
KNOWN_SHARE = 0.40  # reports matching a hash list: notice at once by default
ASSESSMENT_HOURS = (0.25, 4.0)  # report -> case opened, for reports an analyst must assess

# Response behaviours. Delays are log-uniform in hours between the two bounds.
PROVIDERS = [
    {"name": "responsive", "share": 0.38, "act": "first_notice", "delay_h": (0.5, 6)},
    {"name": "slow abuse desk", "share": 0.15, "act": "first_notice", "delay_h": (12, 96)},
    {"name": "needs repeats", "share": 0.15, "act": "nth_notice", "notices": (2, 4), "delay_h": (1, 8)},
    {"name": "after escalation", "share": 0.08, "act": "escalation", "delay_h": (2, 24)},
    {"name": "never", "share": 0.07, "act": "never"},
    {"name": "uploader deletes", "share": 0.07, "act": "on_its_own", "delay_h": (2, 240)},
    {
        "name": "re-uploaded",
        "share": 0.10,
        "act": "first_notice",
        "delay_h": (0.5, 6),
        "back_after_h": (24, 240),
    },
]

CADENCES = {
    "default": DEFAULT_CADENCE,
    "first notice at once for all": replace(DEFAULT_CADENCE, first_notice_other=timedelta(0)),
    "first notice after 1 h for all": replace(DEFAULT_CADENCE, first_notice_known=HOUR),
    "repeat every 12 h": replace(DEFAULT_CADENCE, repeat_every=12 * HOUR),
    "repeat every 48 h": replace(DEFAULT_CADENCE, repeat_every=48 * HOUR),
    "check every 1 h": replace(DEFAULT_CADENCE, check_every=HOUR),
    "check every 4 h": replace(DEFAULT_CADENCE, check_every=4 * HOUR),
    "no faster checks after notice": replace(DEFAULT_CADENCE, check_every_after_notice=2 * HOUR),
    "escalate after 2 notices": replace(DEFAULT_CADENCE, escalate_after=2),
}


@dataclass(frozen=True)
class SyntheticCase:
    provider: str
    asn: int  # a private-use AS number per provider, so that stats can group by provider
    act: str
    known: bool
    assessment: timedelta
    delay: timedelta  # host's reaction time once it acts
    nth: int  # for "nth_notice": the notice the host acts on
    back_after: timedelta | None  # for re-uploaded content: time offline before it returns
    second_delay: timedelta  # reaction to the first notice after it returned


def _log_uniform(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=math.exp(rng.uniform(math.log(low), math.log(high))))


def make_cases(count: int, seed: int) -> list[SyntheticCase]:
    rng = random.Random(seed)
    weights = [provider["share"] for provider in PROVIDERS]
    cases = []
    for _ in range(count):
        index = rng.choices(range(len(PROVIDERS)), weights)[0]
        provider = PROVIDERS[index]
        known = rng.random() < KNOWN_SHARE
        delay_bounds = provider.get("delay_h", (1, 1))
        cases.append(
            SyntheticCase(
                provider=provider["name"],
                asn=64512 + index,
                act=provider["act"],
                known=known,
                assessment=timedelta(0) if known else timedelta(hours=rng.uniform(*ASSESSMENT_HOURS)),
                delay=_log_uniform(rng, *delay_bounds),
                nth=rng.randint(*provider.get("notices", (1, 1))),
                back_after=_log_uniform(rng, *provider["back_after_h"])
                if "back_after_h" in provider
                else None,
                second_delay=_log_uniform(rng, *delay_bounds),
            )
        )
    return cases


class Host:
    """Plays the host of one case: keeps the intervals during which the content is offline."""

    def __init__(self, case: SyntheticCase, reported_at: datetime):
        self.case = case
        self.offline: list[tuple[datetime, datetime | None]] = []  # [down, up) ; None: for good
        if case.act == "on_its_own":
            self.offline.append((reported_at + case.delay, None))

    def online(self, at: datetime) -> bool:
        for down, up in self.offline:
            if down <= at and (up is None or at < up):
                return False
        return True

    def notice(self, number: int, at: datetime) -> None:
        case = self.case
        if not self.offline:
            if (case.act == "first_notice" and number == 1) or (
                case.act == "nth_notice" and number == case.nth
            ):
                down = at + case.delay
                self.offline.append((down, down + case.back_after if case.back_after else None))
            return
        back_at = self.offline[0][1]
        if back_at is not None and at >= back_at and len(self.offline) == 1:
            # Content that came back is taken down again after the first notice that follows.
            self.offline.append((at + case.second_delay, None))

    def escalation(self, at: datetime) -> None:
        if self.case.act == "escalation" and not self.offline:
            self.offline.append((at + self.case.delay, None))


@dataclass
class Outcome:
    record: CaseRecord
    notices: int  # sent until the removal was confirmed (or the horizon)
    checks: int  # made while the case was open
    open_days: float  # time open, from opening to confirmed removal or the horizon
    seen_after: timedelta | None  # observed removal minus the moment the content really went down
    reopened: int


def simulate(case: SyntheticCase, cadence: Cadence) -> Outcome:
    reported_at = T0
    opened_at = reported_at + case.assessment
    end = reported_at + HORIZON
    state = CaseState(opened_at=opened_at, known_material=case.known, last_traced_at=opened_at)
    if case.act == "never":
        # Online at the horizon whatever the cadence: not run past the first notice's time, and
        # counted as not removed.
        first_notice_at = next(task.at for task in planned(state, cadence) if task.task == Task.NOTICE)
        return Outcome(CaseRecord(reported_at, first_notice_at, None, asn=case.asn), 0, 0, 0.0, None, 0)

    host = Host(case, reported_at)
    first_notice_at, notices, checks, done = None, 0, 0, False
    open_since, open_time = opened_at, timedelta(0)
    while not done:
        tasks = planned(state, cadence)
        if not tasks or tasks[0].at > end:
            break
        moment = tasks[0].at
        for task in tasks:
            if task.at > moment:
                break
            if task.task == Task.NOTICE:
                state = record_notice(state, moment)
                first_notice_at = first_notice_at or moment
                notices += 1
                host.notice(task.number, moment)
            elif task.task == Task.ESCALATE:
                state = record_escalation(state, moment)
                host.escalation(moment)
            elif task.task == Task.TRACE:
                state = record_trace(state, moment)
            else:
                checks += state.status == Status.OPEN
                outcome = Check.ONLINE if host.online(moment) else Check.GONE
                state, event = record_check(state, moment, outcome, cadence)
                if event == Event.REMOVED:
                    open_time += moment - open_since
                elif event == Event.REOPENED:
                    open_since = moment
                # Content that never returns would only collect daily misses from here on.
                done = event == Event.REMOVED and case.back_after is None
                if done:
                    break
    if state.status == Status.OPEN:
        open_time += end - open_since

    removed_at = state.removed_at if state.status == Status.REMOVED else None
    seen_after = None
    if removed_at is not None:
        true_down = max(down for down, _ in host.offline if down <= removed_at)
        seen_after = removed_at - true_down
    return Outcome(
        record=CaseRecord(reported_at, first_notice_at, removed_at, asn=case.asn),
        notices=notices,
        checks=checks,
        open_days=open_time / timedelta(days=1),
        seen_after=seen_after,
        reopened=state.reopened,
    )


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def run_cadence(name: str, cadence: Cadence, cases: list[SyntheticCase]) -> dict:
    outcomes = [simulate(case, cadence) for case in cases]
    measures = breakdown([outcome.record for outcome in outcomes], T0 + HORIZON)
    summary = measures.overall
    lags = [outcome.seen_after.total_seconds() / 60 for outcome in outcomes if outcome.seen_after is not None]
    return {
        "cadence": name,
        "settings": {key: str(value) for key, value in asdict(cadence).items()},
        "cases": summary.cases,
        "median_h": _hours(summary.report_to_removal_median),
        "p90_h": _hours(summary.report_to_removal_p90),
        "notice_median_h": _hours(summary.notice_to_removal_median),
        "within_1d": summary.removed_within[1],
        "within_3d": summary.removed_within[3],
        "within_7d": summary.removed_within[7],
        "online_at_42d": 1 - summary.removed / summary.cases,
        "notices_per_removed_case": statistics.fmean(
            outcome.notices for outcome in outcomes if outcome.record.removed_at is not None
        ),
        "checks_per_open_day": sum(outcome.checks for outcome in outcomes)
        / sum(outcome.open_days for outcome in outcomes),
        "seen_after_median_min": round(statistics.median(lags), 1) if lags else None,
        "reopened": sum(outcome.reopened > 0 for outcome in outcomes),
        "by_provider": {
            provider["name"]: {
                "median_h": _hours(measures.by_asn[f"AS{64512 + index}"].report_to_removal_median),
                "p90_h": _hours(measures.by_asn[f"AS{64512 + index}"].report_to_removal_p90),
                "within_3d": measures.by_asn[f"AS{64512 + index}"].removed_within[3],
            }
            for index, provider in enumerate(PROVIDERS)
            if f"AS{64512 + index}" in measures.by_asn
        },
    }


def _cell(value, digits=1, percent=False) -> str:
    if value is None:
        return "n/r"
    return f"{value * 100:.1f}%" if percent else f"{value:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--workers", type=int, default=2, help="processes, one cadence each at a time")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "takedown_sim.json")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    cases = make_cases(args.cases, args.seed)
    # Cadences are independent runs over the same cases: one process each, two at a time.
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(run_cadence, CADENCES, CADENCES.values(), repeat(cases)))
    elapsed = time.perf_counter() - started

    header = (
        f"{'cadence':32} {'median h':>8} {'p90 h':>7} {'<=1d':>6} {'<=3d':>6} {'<=7d':>6} {'online 42d':>10} "
        f"{'notices':>7} {'checks/d':>8} {'seen after':>10}"
    )
    print(
        f"takedown simulation: {args.cases} reports, seed {args.seed}, {HORIZON.days}-day horizon, {elapsed:.1f} s"
    )
    print("median/p90: report -> observed removal (n/r: not reached); notices: mean per removed case;")
    print("checks/d: checks per open case-day; seen after: median minutes from the real removal to the")
    print("first miss of the run that confirmed it")
    print(header)
    print("-" * len(header))
    for row in results:
        print(
            f"{row['cadence']:32} {_cell(row['median_h']):>8} {_cell(row['p90_h']):>7} "
            f"{_cell(row['within_1d'], percent=True):>6} {_cell(row['within_3d'], percent=True):>6} "
            f"{_cell(row['within_7d'], percent=True):>6} {_cell(row['online_at_42d'], percent=True):>10} "
            f"{row['notices_per_removed_case']:>7.2f} {row['checks_per_open_day']:>8.1f} "
            f"{_cell(row['seen_after_median_min']):>10}"
        )

    print()
    print(
        f"per provider behaviour, default cadence:\n{'provider':20} {'median h':>8} {'p90 h':>7} {'<=3d':>6}"
    )
    for provider, row in results[0]["by_provider"].items():
        print(
            f"{provider:20} {_cell(row['median_h']):>8} {_cell(row['p90_h']):>7} "
            f"{_cell(row['within_3d'], percent=True):>6}"
        )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "cases": args.cases,
                "seed": args.seed,
                "horizon_days": HORIZON.days,
                "known_share": KNOWN_SHARE,
                "assessment_hours": ASSESSMENT_HOURS,
                "providers": PROVIDERS,
                "elapsed_s": round(elapsed, 2),
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
