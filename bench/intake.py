"""Report intake, acknowledged and durable: how many reports a second the real server accepts.

Starts `openmnr serve` (gunicorn, production settings, plain HTTP on 127.0.0.1) on a fresh
database, creates a partner hotline's API key, and fires reports at POST /api/v1/reports from
client threads on loopback, each with its own Idempotency-Key and URL (so every report opens a new
case: the most work intake can be asked for). Bounded by a count and a time limit. Then it stops
the server and checks the database for every report id the server acknowledged with 202: an
acknowledged report missing from the database is counted as lost.

In the same run and on the same server it measures the anchor of the stack itself: an
authenticated GET /api/v1/whoami, which does everything an API call does (key lookup, per-key rate
limit counter) but file a report. The published anchor is NCMEC's 2023 average of 1.15 reports a
second (36.2 million reports); the design target is >= 500 reports/s with p99 <= 200 ms and none
lost. A third row sends the same reports in batches (POST /api/v1/reports/batch, 100 a request,
each with its own Idempotency-Key): its rate counts reports, its latencies are per batch (target:
>= 500 reports/s on PostgreSQL with p99 <= 500 ms per batch).

    .venv/bin/python bench/intake.py [--reports N] [--seconds S] [--clients C]
                                     [--workers W] [--threads T] [--db sqlite|postgres|both]
                                     [--anchor COMMIT] [--rows whoami,report,batch]

The client shares the machine with the server, so it takes CPU the server would otherwise have.
So each row also gives the CPU time the server side spent per request (gunicorn's processes, plus
PostgreSQL's when it is the database) and the client's: 2,000 ms divided by the server's figure is
what two cores given to the server alone could answer per second. For PostgreSQL the server side
counts the backends of the bench's own database, not the shared server's other processes. Prints a table and writes
bench/results/intake.json.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("OPENMNR_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TARGET_RATE, TARGET_P99_MS, NCMEC_RATE = 500, 200, 1.15


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict) -> str:
    """Migrate the fresh database and issue a partner key (no rate limit worth the name)."""
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', interactive=False, verbosity=0)\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        "from openmnr.accounts import apikeys\n"
        "owner = get_user_model().objects.create_user('bench-partner')\n"
        "owner.groups.add(Group.objects.get(name='partner_hotline'))\n"
        "owner = get_user_model().objects.get(pk=owner.pk)\n"
        "_, text = apikeys.create_api_key(owner=owner, name='bench', scopes=['hotline.submit_report'],"
        " rate_limit_per_minute=100_000_000)\n"
        "print(text)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def count_in_database(env: dict, query: str, ids: list[int]) -> int:
    """Run ``query`` (Python after ``django.setup()``, with the list ``ids`` given; it prints one
    count) in a fresh process with ``env``: the bench's own process never imports the server's
    settings."""
    script = "import sys, json, django; django.setup()\nids = json.load(sys.stdin)\n" + query
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def acknowledged_present(env: dict, ids: list[int]) -> int:
    """How many of the acknowledged report ids the database holds."""
    query = (
        "from openmnr.hotline.models import Submission\n"
        "print(Submission.objects.filter(pk__in=ids).count())\n"
    )
    return count_in_database(env, query, ids)


def start_server(env: dict, port: int, workers: int, threads: int, log=None) -> subprocess.Popen:
    """`openmnr serve` on 127.0.0.1:`port`; its standard output and error (access log, gunicorn's
    messages, the application's logged exceptions) go to `log`, an open file, or are discarded."""
    command = [sys.executable, "-m", "openmnr.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    output = log if log is not None else subprocess.DEVNULL
    server = subprocess.Popen(command, env=env, stdout=output, stderr=output, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("the server did not start within two minutes")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def server_cpu_seconds(server: subprocess.Popen, database: str | None = None) -> float:
    """CPU time used so far by the server's processes and by the PostgreSQL backends serving
    `database` (their process title names it; the server's connections are persistent, so the
    backends live as long as the server). The PostgreSQL server's shared processes (WAL writer,
    checkpointer) also work for the other databases of a shared server and are left out."""
    processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
    if database:
        for process in psutil.process_iter(["name", "cmdline"]):
            if (process.info["name"] or "").startswith("postgres") and database in " ".join(
                process.info["cmdline"] or ()
            ):
                processes.append(process)
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measured(server: subprocess.Popen, port: int, key: str, database: str | None, **kwargs) -> dict:
    """`fire`, with the server's and the client's CPU milliseconds per acknowledged report."""
    server_before, client_before = server_cpu_seconds(server, database), time.process_time()
    row = fire(port, key, **kwargs)
    server_ms = (server_cpu_seconds(server, database) - server_before) * 1000
    client_ms = (time.process_time() - client_before) * 1000
    acked = max(row["acknowledged"], 1)
    row["server_cpu_ms"], row["client_cpu_ms"] = round(server_ms / acked, 2), round(client_ms / acked, 2)
    return row


def fire(
    port: int, key: str, *, kind: str, count: int, seconds: float, clients: int, batch_size: int = 1
) -> dict:
    """Send up to `count` requests from `clients` threads for at most `seconds` (for batches:
    `count` reports, `batch_size` a request). Latencies are per request; the rate is per report."""
    if kind == "batch":
        count = max(1, count // batch_size)
    lock = threading.Lock()
    issued = [0]
    latencies: list[float] = []
    acknowledged: list[int] = []
    errors: list[str] = []
    run_id = secrets.token_hex(4)
    deadline = time.monotonic() + seconds

    def next_index() -> int | None:
        with lock:
            if issued[0] >= count or time.monotonic() > deadline:
                return None
            issued[0] += 1
            return issued[0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": f"Bearer {key}"}
        while (index := next_index()) is not None:
            if kind == "report":
                body = json.dumps(
                    {"urls": [f"https://bench.example/{run_id}/{index}"], "reference": str(index)}
                )
                headers = {**auth, "Content-Type": "application/json", "Idempotency-Key": f"{run_id}-{index}"}
                method, path = "POST", "/api/v1/reports"
            elif kind == "batch":
                reports = [
                    {
                        "idempotency_key": f"{run_id}-{index}-{n}",
                        "urls": [f"https://bench.example/{run_id}/{index}/{n}"],
                        "reference": f"{index}-{n}",
                    }
                    for n in range(batch_size)
                ]
                body = json.dumps({"reports": reports})
                headers = {**auth, "Content-Type": "application/json"}
                method, path = "POST", "/api/v1/reports/batch"
            else:
                body, headers, method, path = None, auth, "GET", "/api/v1/whoami"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    errors.append(type(exc).__name__)
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if kind == "batch" and response.status == 200:
                    latencies.append(elapsed)
                    for answer in json.loads(payload)["results"]:
                        if answer["status"] == 202:
                            acknowledged.append(answer["id"])
                        else:
                            errors.append(f"item {answer['status']}")
                elif response.status == (202 if kind == "report" else 200):
                    latencies.append(elapsed)
                    if kind == "report":
                        acknowledged.append(json.loads(payload)["id"])
                else:
                    errors.append(str(response.status))
        conn.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")

    done = len(acknowledged) if kind == "batch" else len(latencies)
    return {
        "kind": kind,
        "acknowledged": done,
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": round(wall, 2),
        "per_second": round(done / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(0.50), 1),
        "p99_ms": round(percentile(0.99), 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else float("nan"),
        "ids": acknowledged,
    }


def anchor_source(commit: str, into: Path) -> Path:
    """The ``src/`` folder of ``commit``, extracted with ``git archive`` (the checkout is only read),
    to put first on an anchor server's PYTHONPATH: another commit measured beside this tree."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def run_backend(backend: str, args, label: str = "this tree", extra: dict | None = None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="openmnr-bench-") as var_dir:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="openmnr.web.settings",
            SECRET_KEY=secrets.token_urlsafe(50),
            OPENMNR_AUDIT_KEY=secrets.token_hex(32),
            OPENMNR_VAR_DIR=var_dir,
            OPENMNR_HTTPS="0",
            OPENMNR_LOG_LEVEL="WARNING",
        )
        env.update(extra or {})
        database = None
        if backend == "postgres":
            database = f"openmnr_bench_{secrets.token_hex(4)}"
            _postgres(f"CREATE DATABASE {database}")
            env["DATABASE_URL"] = f"{PG_SERVER}/{database}"
        try:
            key = prepare(env)
            port = free_port()
            server = start_server(env, port, args.workers, args.threads)
            try:
                warm = "report" if "report" in args.rows or "batch" in args.rows else "whoami"
                fire(port, key, kind=warm, count=100, seconds=30, clients=args.clients)  # warm-up
                rows = [
                    measured(
                        server,
                        port,
                        key,
                        database,
                        kind=kind,
                        count=args.reports * (args.batch_size if kind == "batch" else 1),
                        seconds=args.seconds,
                        clients=args.batch_clients if kind == "batch" else args.clients,
                        batch_size=args.batch_size,
                    )
                    for kind in args.rows
                ]
                for row in rows:
                    row["load"] = round(os.getloadavg()[0], 2)
            finally:
                stop_server(server)
            for row in rows:
                row["lost"] = (
                    None
                    if row["kind"] == "whoami"
                    else len(row["ids"]) - acknowledged_present(env, row["ids"])
                )
                row["backend"], row["server"] = backend, label
                del row["ids"]
            return rows
        finally:
            if database:
                _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _postgres(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def postgres_reachable() -> bool:
    try:
        _postgres("SELECT 1")
        return True
    except Exception:  # any failure to connect means: skip PostgreSQL
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=3000, help="requests per measured row (default 3000)")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per measured row (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=100, help="reports per batch request (default 100)")
    parser.add_argument(
        "--batch-clients", type=int, default=4, help="concurrent connections sending batches (default 4)"
    )
    parser.add_argument(
        "--anchor", default=None, help="also measure the server of this commit (git archive of its src/)"
    )
    parser.add_argument(
        "--rows",
        default="whoami,report,batch",
        type=lambda text: [row for row in text.split(",") if row],
        help="which requests to measure, comma-separated: whoami, report, batch (default all three)",
    )
    args = parser.parse_args()
    if not set(args.rows) <= {"whoami", "report", "batch"}:
        parser.error("--rows takes whoami, report and batch")

    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in backends and not postgres_reachable():
        print(f"PostgreSQL is not reachable at {PG_SERVER}: measuring SQLite only.")
        backends.remove("postgres")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="openmnr-anchor-") as scratch:
        servers = [("this tree", {})]
        if args.anchor:
            servers.append(
                (f"commit {args.anchor[:10]}", {"PYTHONPATH": str(anchor_source(args.anchor, Path(scratch)))})
            )
        rows = [
            row
            for backend in backends
            for label, extra in servers
            for row in run_backend(backend, args, label, extra)
        ]
    width = max(len(label) for label, _extra in servers)
    header = (
        f"{'database':9} {'server':{width}} {'request':28} {'acked':>6} {'errors':>6} {'per s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'lost':>5} {'server CPU ms':>13} {'client CPU ms':>13} {'load':>5}"
    )
    print(
        f"\nReport intake on 127.0.0.1: {args.workers} gunicorn workers x {args.threads} threads, "
        f"{args.clients} client connections, up to {args.reports} requests or {args.seconds:g} s per row"
    )
    print(
        f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
        "(load = os.getloadavg()[0] as the row ended; the machine is shared)"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        label = {
            "report": "POST /api/v1/reports (ours)",
            "batch": f"POST .../reports/batch x{args.batch_size}",
            "whoami": "GET /api/v1/whoami (anchor)",
        }[row["kind"]]
        lost = "" if row["lost"] is None else str(row["lost"])
        print(
            f"{row['backend']:9} {row['server']:{width}} {label:28} {row['acknowledged']:>6} {row['errors']:>6} "
            f"{row['per_second']:>7} {row['p50_ms']:>7} {row['p99_ms']:>7} {lost:>5} {row['server_cpu_ms']:>13} "
            f"{row['client_cpu_ms']:>13} {row['load']:>5}"
        )
    print(f"{'':9} {'':{width}} {'NCMEC 2023 average (anchor)':28} {'':>6} {'':>6} {NCMEC_RATE:>7}")
    print(
        f"{'':9} {'':{width}} {'design target':28} {'':>6} {'':>6} {'>=' + str(TARGET_RATE):>7} {'':>7} "
        f"{'<=' + str(TARGET_P99_MS):>7} {'0':>5}"
    )

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "intake.json"
    out.write_text(
        json.dumps(
            {
                "args": vars(args),
                "rows": rows,
                "ncmec_rate": NCMEC_RATE,
                "target": {"rate": TARGET_RATE, "p99_ms": TARGET_P99_MS, "lost": 0},
            },
            indent=2,
        )
    )
    print(f"\nWritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
