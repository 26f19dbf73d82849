"""Where an API request's CPU goes: whoami and a partner report inside one process, beside a commit.

The floor of every API call is ``GET /api/v1/whoami`` (key lookup, rate count, the middleware
stack, the URL resolver, ninja's answer); a partner report (``POST /api/v1/reports``) is that plus
the filing. This script runs both through Django's test client (every middleware, no HTTP server,
production settings) on a fresh database and prints, per request, the CPU milliseconds
(``time.process_time``), the wall milliseconds and the SQL statements. With ``--anchor COMMIT`` the
same measurement runs for that commit's ``src/`` (``git archive``) in its own process, the trees
alternating round by round, so both are measured under the same load; the load average is printed
before and after. With ``--profile`` it adds a cProfile table (CPU-time clock) for this tree.

Not a rate: one process, one thread, no network. bench/intake.py measures the real server.

    python bench/profile_request.py [--calls N] [--rounds R] [--anchor COMMIT] [--db sqlite|postgres]
                                    [--profile] [--sort cumulative|tottime] [--top N]
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import PG_SERVER, _postgres  # noqa: E402  (the intake bench's database set-up)


def measure(calls: int, profile: bool, sort: str, top: int) -> dict:
    """In this process (its environment already set): migrate, issue a partner key, warm up, then
    time `calls` whoami calls and `calls` reports."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openmnr.accounts import apikeys

    call_command("migrate", interactive=False, verbosity=0)
    owner = get_user_model().objects.create_user("profile-partner")
    owner.groups.add(Group.objects.get(name="partner_hotline"))
    owner = get_user_model().objects.get(pk=owner.pk)
    _key, text = apikeys.create_api_key(
        owner=owner, name="profile", scopes=["hotline.submit_report"], rate_limit_per_minute=100_000_000
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {text}", HTTP_HOST="127.0.0.1")
    run = secrets.token_hex(4)
    counter = iter(range(10**9))

    def whoami():
        return client.get("/api/v1/whoami"), 200

    def report():
        n = next(counter)
        body = json.dumps({"urls": [f"https://profile.example/{run}/{n}"], "reference": str(n)})
        answer = client.post(
            "/api/v1/reports", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"{run}-{n}"
        )
        return answer, 202

    requests = {"GET /api/v1/whoami": whoami, "POST /api/v1/reports": report}
    for send in requests.values():  # warm-up: imports, caches, compiled templates and schemas
        for _ in range(20):
            send()
    profiler = cProfile.Profile(time.process_time)
    rows = {}
    for name, send in requests.items():
        cpu = wall = 0.0
        for _ in range(calls):
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            if profile:
                profiler.enable()
            response, expected = send()
            if profile:
                profiler.disable()
            cpu += time.process_time() - started_cpu
            wall += time.perf_counter() - started_wall
            if response.status_code != expected:
                raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
        # Statements counted apart: capturing them makes Django's cursor format each one.
        with CaptureQueriesContext(connection) as queries:
            for _ in range(20):
                send()
        rows[name] = {
            "cpu_ms": cpu * 1000 / calls,
            "wall_ms": wall * 1000 / calls,
            "statements": len(queries) / 20,
        }
    if profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
        print(out.getvalue(), file=sys.stderr)
    return rows


def child_environment(var_dir: str, database: str | None, pythonpath: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="openmnr.web.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        OPENMNR_AUDIT_KEY=secrets.token_hex(32),
        OPENMNR_VAR_DIR=var_dir,
        OPENMNR_HTTPS="0",
        OPENMNR_LOG_LEVEL="WARNING",
    )
    if database:
        env["DATABASE_URL"] = f"{PG_SERVER}/{database}"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def run_tree(args, pythonpath: str | None, profile: bool) -> dict:
    """One measurement of one tree in a fresh process on a fresh database."""
    database = f"openmnr_profile_{secrets.token_hex(4)}" if args.db == "postgres" else None
    with tempfile.TemporaryDirectory(prefix="openmnr-profile-") as var_dir:
        if database:
            _postgres(f"CREATE DATABASE {database}")
        try:
            command = [sys.executable, __file__, "--child", "--calls", str(args.calls)]
            command += ["--sort", args.sort, "--top", str(args.top)] + (["--profile"] if profile else [])
            done = subprocess.run(
                command,
                env=child_environment(var_dir, database, pythonpath),
                capture_output=True,
                text=True,
                cwd=var_dir,
            )
            if done.returncode:
                raise SystemExit(f"the measurement failed:\n{done.stderr[-3000:]}")
            if profile:
                print(done.stderr)
            return json.loads(done.stdout.strip().splitlines()[-1])
        finally:
            if database:
                _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def anchor_source(commit: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="measured calls of each request (default 300)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per tree (default 2)")
    parser.add_argument("--anchor", default=None, help="also measure this commit's src/ (git archive)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--profile", action="store_true", help="print a cProfile table (CPU-time clock)")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.calls, args.profile, args.sort, args.top)))
        return

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="openmnr-anchor-") as scratch:
        trees = [("this tree", None)]
        if args.anchor:
            trees.append((f"commit {args.anchor[:10]}", str(anchor_source(args.anchor, Path(scratch)))))
        results: dict[str, list[dict]] = {label: [] for label, _path in trees}
        for number in range(args.rounds):
            for label, path in trees if number % 2 == 0 else trees[::-1]:
                profile = args.profile and label == "this tree" and number == 0
                results[label].append(run_tree(args, path, profile))
    print(
        f"API requests through Django's test client, {args.db}, {args.calls} calls each, "
        f"{args.rounds} alternating rounds (the best round shown); "
        f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}"
    )
    width = max(len(label) for label, _path in trees)
    print(f"{'tree':{width}}  {'request':22} {'CPU ms':>7} {'wall ms':>8} {'statements':>11}")
    for label, _path in trees:
        for request in results[label][0]:
            best = min(results[label], key=lambda rounds, r=request: rounds[r]["cpu_ms"])[request]
            print(
                f"{label:{width}}  {request:22} {best['cpu_ms']:>7.2f} {best['wall_ms']:>8.2f} "
                f"{best['statements']:>11.1f}"
            )


if __name__ == "__main__":
    main()
