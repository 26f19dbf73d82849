"""Industry reports through the whole CyberTipline exchange: complete reports a second.

Starts `openmnr serve` (gunicorn, production settings, plain HTTP on 127.0.0.1) on a fresh database
with a bank of confirmed material holding one benign corpus picture, issues a provider credential,
and has client threads file complete reports exactly as a provider's CyberTipline client does:
POST /ispws/submit (XML report), two POST /ispws/upload (multipart; the known picture, byte for
byte the bank's file, and a new one: a benign corpus picture with bytes of its own appended, so
that no earlier upload had it; ``--unique-known`` appends bytes to the known picture too, so no
upload is a byte-identical copy of an earlier one), POST /ispws/fileinfo (XML) and POST /ispws/finish. A report counts when
finish answered responseCode 0 with both file ids; afterwards the database is checked for the case
of every report counted (a counted report without its case and two files is "lost").

In the same run and on the same server it measures the anchor of the stack: GET /ispws/status, which
authenticates (HTTP Basic) and answers a reportResponse, nothing else. A complete report is five such
requests plus the work. The published anchor is NCMEC's 2023 average of 1.15 reports a second; the
design target is >= 50 complete reports a second on two cores.

    python bench/industry.py [--reports N] [--seconds S] [--clients C] [--workers W] [--threads T]
                             [--db sqlite|postgres|both] [--isolate 1|0] [--decoders N]
                             [--anchor COMMIT] [--anchor-decoders N] [--server-log PATH]

``--server-log PATH`` keeps what each server writes (access log, gunicorn's messages, the
exceptions logged behind answers 1000); every run prints the answers of each request by
responseCode, the kernel's share of the server CPU, and per server the workers booted, worker
timeouts and the 1000s its log names, by cause (``industry_server.log_summary``).

``--anchor COMMIT`` measures, in the same run and with the same clients, the server of another
commit (its ``src/``, taken with ``git archive`` into a temporary folder and put first on the
server's PYTHONPATH; nothing in the checkout changes) beside this tree's: before and after a
change, on a machine whose load moves. ``--anchor-decoders 0`` instead (or as well) runs this tree
with a fresh decoder child for every upload (``OPENMNR_DECODERS_IDLE=0``), the way decoding
worked before the decoder pool.

Each row gives the CPU time the server side spent per report (gunicorn's processes, the fork server
and the decoders it starts, and the PostgreSQL backends of this run's database) and the client's: the client shares the machine, so
2,000 ms divided by the server's figure is what two cores given to the server alone could do.
Prints a table and writes bench/results/industry.json.
"""

import argparse
import base64
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from industry_server import children_cpu, log_summary, present  # noqa: E402
from intake import (  # noqa: E402  (the same server, CPU and PostgreSQL helpers as the intake bench)
    PG_SERVER,
    _postgres,
    anchor_source,
    free_port,
    postgres_reachable,
    start_server,
    stop_server,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CORPUS = ROOT.parent / "shared" / "corpus" / "natural"
KNOWN = "astronaut-01.jpg"
TARGET, NCMEC_RATE = 50, 1.15
REPORT = (
    '<?xml version="1.0" encoding="UTF-8"?><report><incidentSummary>'
    "<incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>"
    "<platform>Bench Chat</platform><incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary>"
    "<internetDetails><webPageIncident><url>https://chat.bench.invalid/{n}</url></webPageIncident></internetDetails>"
    "<reporter><reportingPerson><firstName>Bench</firstName><email>ts@bench.invalid</email></reportingPerson></reporter>"
    "<personOrUserReported><espIdentifier>user-{n}</espIdentifier><espService>Bench Chat</espService>"
    "<estimatedLocation><countryCode>PT</countryCode></estimatedLocation></personOrUserReported></report>"
)
DETAILS = (
    "<fileDetails><reportId>{report}</reportId><fileId>{file}</fileId><originalFileName>new.jpg</originalFileName>"
    "<fileAnnotations><possibleSelfProduction>true</possibleSelfProduction></fileAnnotations>"
    "<industryClassification>B2</industryClassification></fileDetails>"
)


def prepare(env: dict) -> tuple[str, str]:
    """Migrate, put one benign corpus picture in a confirmed bank (four eyes), issue a credential."""
    script = f"""
import django; django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from openmnr.banks import services
from openmnr.banks.models import Bank, Purpose
from openmnr.industry import credentials
User = get_user_model()
def user(name, role):
    u = User.objects.create_user(name); u.groups.add(Group.objects.get(name=role)); return User.objects.get(pk=u.pk)
analyst, s1, s2 = user("a", "analyst"), user("s1", "senior_analyst"), user("s2", "senior_analyst")
bank = Bank.objects.create(name="bench", purpose=Purpose.CONFIRMED_CSAM, match_roles=["analyst", "senior_analyst"])
data = open({str(CORPUS / KNOWN)!r}, "rb").read()
hashes = services.hash_upload(data)
for kind in ("pdq", "md5"):
    entry = services.propose_entry(bank, signal_type=kind, value=hashes[kind].value, classification="baseline", category="bench", by=analyst)
    for senior in (s1, s2):
        services.confirm_entry(entry, by=senior)
credential, password = credentials.issue(user("bench-provider", "industry_member"))
print(credential.username); print(password)
"""
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    username, password = done.stdout.strip().splitlines()[-2:]
    return username, password


def multipart(fields: dict, file_name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def tag(body: bytes, name: str) -> str:
    start = body.find(f"<{name}>".encode())
    return body[start + len(name) + 2 : body.find(f"</{name}>".encode())].decode() if start >= 0 else ""


def fire(
    port: int, auth: str, *, kind: str, count: int, seconds: float, clients: int, pictures, unique_known=False
) -> dict:
    """``kind`` "status" or "report" ``count`` times (or for ``seconds``) from ``clients`` threads.
    Each report's new picture is a corpus picture with bytes of its own after the picture's end (a
    nonce of this call and the report's number): a new file to the server, which no earlier upload
    had, as a new file in a real report is. The known picture is the bank's file, byte for byte,
    as known material circulates; ``unique_known`` gives it bytes of its own as well (a copy whose
    bytes differ, found by its PDQ): no upload of the run is then a byte-identical copy."""
    lock = threading.Lock()
    nonce = secrets.token_hex(8).encode()
    issued, latencies, done, errors = [0], [], [], []
    codes: dict[str, dict[str, int]] = {}
    deadline = time.monotonic() + seconds
    known = (CORPUS / KNOWN).read_bytes()

    def next_index():
        with lock:
            if issued[0] >= count or time.monotonic() > deadline:
                return None
            issued[0] += 1
            return issued[0]

    def call(conn, method, path, body=None, content_type=None):
        headers = {"Authorization": auth}
        if content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        answer = tag(payload, "responseCode") or f"HTTP {response.status}"
        if response.status != 200:
            answer = f"{answer} (HTTP {response.status})"
        with lock:
            per_path = codes.setdefault(path.rsplit("/", 1)[-1], {})
            per_path[answer] = per_path.get(answer, 0) + 1
        if response.status != 200 or tag(payload, "responseCode") != "0":
            raise RuntimeError(f"{path} {response.status} {tag(payload, 'responseCode')}")
        return payload

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while (index := next_index()) is not None:
            started = time.perf_counter()
            try:
                if kind == "status":
                    call(conn, "GET", "/ispws/status")
                else:
                    report = tag(
                        call(conn, "POST", "/ispws/submit", REPORT.format(n=index).encode(), "text/xml"),
                        "reportId",
                    )
                    ids = []
                    own = b"\0" + nonce + b"-%d" % index  # after the picture's end: no decoder reads it
                    files = (
                        ("known.jpg", known + own if unique_known else known),
                        ("new.jpg", pictures[index % len(pictures)] + own),
                    )
                    for name, data in files:
                        body, content_type = multipart({"id": report}, name, data)
                        ids.append(tag(call(conn, "POST", "/ispws/upload", body, content_type), "fileId"))
                    details = DETAILS.format(report=report, file=ids[1]).encode()
                    call(conn, "POST", "/ispws/fileinfo", details, "text/xml")
                    finished = call(
                        conn,
                        "POST",
                        "/ispws/finish",
                        f"id={report}".encode(),
                        "application/x-www-form-urlencoded",
                    )
                    if finished.count(b"<fileId>") != 2:
                        raise RuntimeError("finish did not list both files")
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                if not isinstance(exc, RuntimeError):
                    with lock:
                        kinds = codes.setdefault("(connection)", {})
                        kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    errors.append(str(exc)[:80])
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                if kind == "report":
                    done.append(int(report))
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)

    def pct(p):
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1) if ordered else None

    return {
        "kind": kind,
        "completed": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "codes": codes,
        "seconds": round(wall, 2),
        "per_second": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else None,
        "ids": done,
    }


def variants(args, scratch: Path) -> list[tuple[str, dict]]:
    """(label, extra environment) of each server measured: this tree, then the anchors."""
    found = [("this tree", {} if args.decoders is None else {"OPENMNR_DECODERS_IDLE": str(args.decoders)})]
    if args.anchor_decoders is not None:
        found.append(
            (
                f"this tree, {args.anchor_decoders} idle decoders",
                {"OPENMNR_DECODERS_IDLE": str(args.anchor_decoders)},
            )
        )
    if args.anchor:
        source = anchor_source(args.anchor, scratch)
        found.append((f"commit {args.anchor[:10]}", {"PYTHONPATH": str(source)}))
    return found


def run_backend(backend: str, args, label: str = "this tree", extra: dict | None = None) -> list[dict]:
    pictures = [p.read_bytes() for p in sorted(CORPUS.glob("*.jpg")) if p.name != KNOWN]
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
            OPENMNR_BANKS_ISOLATE_DECODE=str(args.isolate),
        )
        env.update(extra or {})
        database = None
        if backend == "postgres":
            database = f"openmnr_bench_{secrets.token_hex(4)}"
            _postgres(f"CREATE DATABASE {database}")
            env["DATABASE_URL"] = f"{PG_SERVER}/{database}"
        try:
            username, password = prepare(env)
            auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
            port = free_port()
            log = None
            if args.server_log:
                log = open(args.server_log, "a", buffering=1)  # noqa: SIM115  (closed below)
                log.write(
                    f"\n===== {time.strftime('%H:%M:%S')} {backend}, {label}: openmnr serve on port {port}\n"
                )
                log.flush()
                log_offset = log.tell()
            server = start_server(env, port, args.workers, args.threads, log=log)
            try:
                fire(port, auth, kind="report", count=20, seconds=30, clients=args.clients, pictures=pictures)
                rows = []
                for kind, count in (("status", args.reports * 5), ("report", args.reports)):
                    server_before, client_before = children_cpu(server, database), time.process_time()
                    row = fire(
                        port,
                        auth,
                        kind=kind,
                        count=count,
                        seconds=args.seconds,
                        clients=args.clients,
                        pictures=pictures,
                        unique_known=args.unique_known,
                    )
                    row["load"] = round(os.getloadavg()[0], 2)
                    done = max(row["completed"], 1)
                    server_after = children_cpu(server, database)
                    spent = server_after[0] - server_before[0]
                    row["server_cpu_ms"] = round(spent * 1000 / done, 2)
                    row["server_system_share"] = (
                        round((server_after[1] - server_before[1]) / spent, 3) if spent else None
                    )
                    row["client_cpu_ms"] = round((time.process_time() - client_before) * 1000 / done, 2)
                    rows.append(row)
            finally:
                stop_server(server)
                if log is not None:
                    log.close()
            if log is not None:
                rows[-1]["server_log"] = log_summary(args.server_log, log_offset)
            rows[1]["lost"] = rows[1]["completed"] - present(env, rows[1]["ids"])
            rows[0]["lost"] = None
            for row in rows:
                row["backend"], row["server"] = backend, label
                del row["ids"]
            return rows
        finally:
            if database:
                _postgres(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reports", type=int, default=1000, help="complete reports per measured row (default 1000)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="time limit per measured row (default 60)")
    parser.add_argument(
        "--unique-known",
        action="store_true",
        help="the known picture with bytes of its own in every report (no byte-identical copy)",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent client connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--isolate",
        type=int,
        choices=[0, 1],
        default=1,
        help="decode uploads in child processes (default 1, as in production)",
    )
    parser.add_argument(
        "--decoders",
        type=int,
        default=None,
        help="decoder processes kept waiting per server process (OPENMNR_DECODERS_IDLE; default: the "
        "server's own, one per thread under openmnr serve)",
    )
    parser.add_argument(
        "--anchor-decoders",
        type=int,
        default=None,
        help="also measure this tree with this many idle decoders (0: a child per decode, as before the pool)",
    )
    parser.add_argument(
        "--anchor", default=None, help="also measure the server of this commit (git archive of its src/)"
    )
    parser.add_argument(
        "--server-log",
        default=None,
        help="append the servers' standard output and error (access log, gunicorn's messages, the "
        "exceptions logged behind answers 1000) to this file; default: discarded",
    )
    args = parser.parse_args()
    if args.server_log:
        Path(args.server_log).write_text("")

    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in backends and not postgres_reachable():
        print(f"PostgreSQL is not reachable at {PG_SERVER}: measuring SQLite only.")
        backends.remove("postgres")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="openmnr-anchor-") as scratch:
        servers = variants(args, Path(scratch))
        rows = [
            row
            for backend in backends
            for label, extra in servers
            for row in run_backend(backend, args, label, extra)
        ]
    load_after = os.getloadavg()

    print(
        f"\nIndustry reports on 127.0.0.1: {args.workers} gunicorn workers x {args.threads} threads, {args.clients} clients, "
        f"isolated decoding {'on' if args.isolate else 'off'}, known picture "
        f"{'with bytes of its own in each report' if args.unique_known else 'byte-identical in each report'}; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    )
    width = max(len(label) for label, _extra in servers)
    header = (
        f"{'database':9} {'server':{width}} {'what':36} {'done':>6} {'errors':>6} {'per s':>7} {'p50 ms':>7} "
        f"{'p99 ms':>8} {'lost':>5} {'server CPU ms':>13} {'client CPU ms':>13} {'2 idle cores/s':>14} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        label = (
            "complete report (ours: 5 requests)" if row["kind"] == "report" else "GET /ispws/status (anchor)"
        )
        lost = "" if row["lost"] is None else str(row["lost"])
        row["projected_per_second"] = round(2000 / row["server_cpu_ms"], 1) if row["server_cpu_ms"] else None
        print(
            f"{row['backend']:9} {row['server']:{width}} {label:36} {row['completed']:>6} {row['errors']:>6} "
            f"{row['per_second']:>7} {row['p50_ms']!s:>7} {row['p99_ms']!s:>8} {lost:>5} "
            f"{row['server_cpu_ms']:>13} {row['client_cpu_ms']:>13} {row['projected_per_second']!s:>14} {row['load']:>5}"
        )
    print(f"{'':9} {'':{width}} {'NCMEC 2023 average (anchor)':36} {'':>6} {'':>6} {NCMEC_RATE:>7}")
    print(f"{'':9} {'':{width}} {'design target':36} {'':>6} {'':>6} {'>=' + str(TARGET):>7}")
    print(
        "2 idle cores/s = 2,000 ms / server CPU ms: what two cores given to the server alone could do "
        "(the client and other work on this shared machine take the rest); load = os.getloadavg()[0] "
        "as the row ended."
    )
    print("\nAnswers (responseCode, or the HTTP status without one) per request, counted by the clients:")
    for row in rows:
        for path, counted in row["codes"].items():
            answers = ", ".join(f"{code}: {n}" for code, n in sorted(counted.items()))
            print(f"  {row['backend']:9} {row['server']:{width}} {row['kind']:7} {path:12} {answers}")
        print(
            f"  {row['backend']:9} {row['server']:{width}} {row['kind']:7} {'':12} server CPU in the kernel: "
            f"{row['server_system_share'] or 0:.0%} of {row['server_cpu_ms']} ms; row took {row['seconds']} s"
        )
    for row in rows:
        if "server_log" in row:
            found = row["server_log"]
            print(
                f"  {row['backend']:9} {row['server']:{width}} server log: {found['worker_boots']} workers booted, "
                f"{found['worker_timeouts']} worker timeouts, 1000s logged: {found['failures_logged'] or 'none'}"
            )
    if args.server_log:
        print(f"Server log: {args.server_log}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "industry.json"
    out.write_text(
        json.dumps(
            {
                "args": vars(args),
                "load_average": [load_before, load_after],
                "rows": rows,
                "ncmec_rate": NCMEC_RATE,
                "target": TARGET,
            },
            indent=2,
        )
    )
    print(f"\nWritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
