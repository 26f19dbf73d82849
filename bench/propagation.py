"""Propagation benchmark: how soon a bank change made in one process is matched in another.

    .venv/bin/python bench/propagation.py                 # SQLite, 10 changes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/propagation.py

Every web and worker process keeps its own match index and follows the change log, checking it at
most every OPENMNR_BANKS_POLL_MILLISECONDS (1 s by default); the target is that a confirmed entry is
matched everywhere within 5 s, and a disabled one dropped as fast, without a restart. Rows:

- confirmed entry visible: this process confirms an entry (four eyes); a second process, already
  matching, is asked again every 50 ms until its answer names the entry;
- disabled entry gone: the same for disabling it;
- restart (anchor): what the alternative to following the log costs, a new process that loads
  the index from the database and answers its first match.

Runs on a scratch database made like a test database (migrated, destroyed at the end) in a scratch
folder, so it never touches an installation's data. Prints one table and writes
bench/results/propagation.json.
"""

import argparse
import json
import os
import platform
import queue
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SECONDS = 5.0
PDQ = "d8f8f0cce0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

# The second process: another matcher on the same database, answering one JSON line per question.
OTHER = """
import json, os, sys
from pathlib import Path
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
settings.BANKS_INDEX_DIR = Path(sys.argv[2])
import django
django.setup()
from django.contrib.auth import get_user_model
from openmnr.banks import services
user = get_user_model().objects.get(username=sys.argv[3])
print(json.dumps({"ready": os.getpid()}), flush=True)
for line in sys.stdin:
    (result,) = services.match([json.loads(line)], user=user)
    print(json.dumps([m.entry_id for m in result.matches]), flush=True)
"""


class Other:
    """The second process, its answers read with a deadline so that a hung child ends the run."""

    def __init__(self, database: str, index_dir: Path, username: str):
        self.process = subprocess.Popen(
            [sys.executable, "-c", OTHER, database, str(index_dir), username],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.read()  # ready

    def _pump(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read(self, timeout: float = 120):
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise SystemExit("the second process ended")
        return json.loads(line)

    def ask(self, item: dict) -> list[int]:
        self.process.stdin.write(json.dumps(item) + "\n")
        self.process.stdin.flush()
        return self.read()

    def seconds_until(self, item: dict, condition) -> float:
        started = time.perf_counter()
        while not condition(self.ask(item)):
            if time.perf_counter() - started > 60:
                raise SystemExit("no change seen within 60 s")
            time.sleep(0.05)
        return time.perf_counter() - started

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def summary(step: str, seconds: list[float], note: str = "") -> dict:
    ordered = sorted(seconds)
    return {
        "step": step,
        "n": len(seconds),
        "median_s": round(statistics.median(ordered), 3),
        "p90_s": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 3),
        "max_s": round(ordered[-1], 3),
        "within_target": sum(s <= TARGET_SECONDS for s in seconds),
        "note": note,
    }


def table(rows) -> str:
    head = f"{'step':34} {'n':>3} {'median s':>9} {'p90 s':>7} {'max s':>7} {'<=5 s':>6}  note"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['step']:34} {r['n']:>3} {r['median_s']:>9.3f} {r['p90_s']:>7.3f} {r['max_s']:>7.3f} "
            f"{r['within_target']:>6}  {r['note']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="changes to time")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="openmnr-bench-"))
    os.environ.setdefault("OPENMNR_VAR_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.BANKS_INDEX_DIR = scratch / "index"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args, connection, settings, scratch)
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def run(args, connection, settings, scratch: Path) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from openmnr.accounts.roles import sync_roles
    from openmnr.banks import services
    from openmnr.banks.models import Bank, Purpose

    sync_roles()
    users = {}
    for name, role in [("analyst", "analyst"), ("first", "senior_analyst"), ("second", "senior_analyst")]:
        user = get_user_model().objects.create_user(username=name)
        user.groups.add(Group.objects.get(name=role))
        users[name] = user
    bank = Bank.objects.create(
        name="confirmed", purpose=Purpose.CONFIRMED_CSAM, match_roles=["analyst", "senior_analyst"]
    )
    database = str(connection.settings_dict["NAME"])

    visible, gone, restarts = [], [], []
    other = Other(database, scratch / "index", "analyst")
    try:
        for number in range(args.n):
            value = f"{number + 1:02x}" + PDQ[2:]
            entry = services.propose_entry(
                bank, signal_type="pdq", value=value, classification="baseline", by=users["analyst"]
            )
            services.confirm_entry(entry, by=users["first"])
            services.confirm_entry(entry, by=users["second"])
            visible.append(other.seconds_until({"pdq": value}, lambda ids, pk=entry.pk: pk in ids))
            services.disable_entry(entry, by=users["first"], reason="benchmark")
            gone.append(other.seconds_until({"pdq": value}, lambda ids, pk=entry.pk: pk not in ids))
    finally:
        other.close()
    for _ in range(max(3, args.n // 3)):
        started = time.perf_counter()
        fresh = Other(database, scratch / f"index-{len(restarts)}", "analyst")
        fresh.ask({"pdq": PDQ})
        restarts.append(time.perf_counter() - started)
        fresh.close()

    poll = f"poll every {settings.BANKS_POLL_SECONDS:g} s"
    rows = [
        summary("confirmed entry visible elsewhere", visible, poll),
        summary("disabled entry gone elsewhere", gone, poll),
        summary("restart (anchor): new process", restarts, "start, load the index, first match"),
    ]
    print(
        f"\nPropagation between processes ({connection.vendor}, {platform.node()}, "
        f"load {os.getloadavg()[0]:.2f}); target: within {TARGET_SECONDS:g} s\n"
    )
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "propagation.json").write_text(
        json.dumps({"vendor": connection.vendor, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
