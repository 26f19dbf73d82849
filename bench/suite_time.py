"""The whole check suite's wall time: `make test` of two commits, back to back, on this machine.

    .venv/bin/python bench/suite_time.py BEFORE AFTER [--rounds 2] [--work DIR]

What CI runs is `make test` (lint, the migration check, the tests on SQLite and on PostgreSQL, the
browser tests). Comparing its wall time across a change is only fair on one machine, one run right
after the other, with nothing else running, and with the environment already built: the first run
of a fresh clone spends minutes installing packages, which says nothing about the suite. So, for
each commit, this makes a clone of this repository at that commit under ``--work`` (with a
``shared`` link beside it pointing at this checkout's ``../shared``, as CI has), builds its virtual
environment once outside the timing (``make .venv/.installed``), and then times ``CI=true make
test`` in the order BEFORE, AFTER, BEFORE, AFTER... (``--rounds`` pairs), so that a machine whose
speed drifts during the run penalises both sides alike. A run that fails is reported as failed, not
timed. Prints one table (each run, then the mean per commit and the ratio AFTER/BEFORE) and writes
bench/results/suite_time.json. Takes as long as the runs: about 10 minutes a pair on two cores.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def prepare(commit: str, work: Path) -> Path:
    """A clone at ``commit`` with its environment built; reused when it is already there."""
    short = _git("rev-parse", "--short", commit)
    clone = work / short
    if not clone.exists():
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
        _git("checkout", "--quiet", short, cwd=clone)
    shared = work / "shared"
    if not shared.exists():
        shared.symlink_to((ROOT.parent / "shared").resolve())
    subprocess.run(["make", ".venv/.installed"], cwd=clone, check=True, stdout=subprocess.DEVNULL)
    return clone


def timed_run(clone: Path, log: Path) -> tuple[float, int]:
    env = {**os.environ, "CI": "true"}
    env.pop("DATABASE_URL", None)
    started = time.monotonic()
    with log.open("w") as out:
        code = subprocess.run(
            ["make", "test"], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    return time.monotonic() - started, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (default 2)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/openmnr-suite-time"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    clones = {
        name: prepare(commit, args.work) for name, commit in (("before", args.before), ("after", args.after))
    }

    runs = []
    for round_number in range(1, args.rounds + 1):
        for name, clone in clones.items():
            load = os.getloadavg()[0]
            seconds, code = timed_run(clone, args.work / f"{name}-{round_number}.log")
            runs.append(
                {
                    "commit": clone.name,
                    "side": name,
                    "round": round_number,
                    "seconds": seconds,
                    "ok": code == 0,
                    "load_before": load,
                }
            )
            print(
                f"{name:6} {clone.name} round {round_number}: {seconds:7.1f} s {'ok' if code == 0 else 'FAILED'} "
                f"(load before {load:.2f})",
                flush=True,
            )

    means = {}
    for name in clones:
        ok = [run["seconds"] for run in runs if run["side"] == name and run["ok"]]
        means[name] = statistics.mean(ok) if ok else None
    heads = " | ".join(f"run {n} s" for n in range(1, args.rounds + 1))
    print(f"\n| side   | commit   | {heads} | mean s |")
    print("|--------|----------|" + "--------:|" * args.rounds + "-------:|")
    for name, clone in clones.items():
        cells = [f"{run['seconds']:7.1f}" if run["ok"] else " failed" for run in runs if run["side"] == name]
        mean = f"{means[name]:.1f}" if means[name] else "-"
        print(f"| {name:6} | {clone.name:8} | {' | '.join(cells)} | {mean:>6} |")
    if means["before"] and means["after"]:
        print(f"\nafter / before: {means['after'] / means['before']:.1%} of the wall time")
    out = ROOT / "bench" / "results" / "suite_time.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": runs, "means": means}, indent=2))
    print(f"Written to {out.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
