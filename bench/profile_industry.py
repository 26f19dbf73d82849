"""Where a complete industry report's CPU goes: the exchange inside one process, request by request.

Runs the same exchange as bench/industry.py (submit, two uploads, fileinfo, finish, then a status)
through Django's test client (every middleware, no HTTP server) on a fresh SQLite database with the
production settings, and prints for each request its CPU milliseconds, the decoders' CPU and its SQL
statements; with ``--profile`` it adds a cProfile table whose clock is CPU time. Not a rate: the
figures are an upper bound on a loaded machine (the wall clock is printed beside them).

    python bench/profile_industry.py [--reports N] [--profile] [--sort cumulative|tottime] [--top N] [--sql]
                                     [--full-chain]

``--sql`` prints the statements of the last report's requests; ``PYTHONPATH=<another tree>/src``
profiles another commit's code with the same script (the anchor of a before-and-after).
"""

import argparse
import base64
import cProfile
import io
import os
import pstats
import secrets
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import industry as exchange  # noqa: E402  (the bench's documents, corpus and set-up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="add a cProfile table (CPU-time clock)")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--isolate", type=int, choices=[0, 1], default=1)
    parser.add_argument("--sql", action="store_true", help="print the statements of the last report")
    parser.add_argument(
        "--full-chain",
        action="store_true",
        help="run /ispws/ through the whole middleware stack, as before the lean chain (decision 0035)",
    )
    args = parser.parse_args()

    os.environ.update(
        DJANGO_SETTINGS_MODULE="openmnr.web.settings",
        SECRET_KEY=secrets.token_urlsafe(50),
        OPENMNR_AUDIT_KEY=secrets.token_hex(32),
        OPENMNR_VAR_DIR=tempfile.mkdtemp(prefix="openmnr-profile-"),
        OPENMNR_HTTPS="0",
        OPENMNR_LOG_LEVEL="WARNING",
        OPENMNR_BANKS_ISOLATE_DECODE=str(args.isolate),
    )
    for name in [k for k in os.environ if k.startswith("DATABASE_URL")]:
        del os.environ[name]
    username, password = exchange.prepare(dict(os.environ))

    import django

    django.setup()
    from django.conf import settings

    if args.full_chain:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith(".LeanPathsMiddleware")]
    import psutil
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    client = Client(HTTP_AUTHORIZATION=auth, HTTP_HOST="127.0.0.1")
    known = (exchange.CORPUS / exchange.KNOWN).read_bytes()
    pictures = [p.read_bytes() for p in sorted(exchange.CORPUS.glob("*.jpg")) if p.name != exchange.KNOWN]
    me = psutil.Process()
    totals: dict[str, list[float]] = {}
    profiler, profiling = cProfile.Profile(time.process_time), False
    statements: dict[str, list[str]] = {}

    def decoders_cpu() -> float:
        total = 0.0
        for child in me.children(recursive=True):
            try:
                times = child.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        own = os.times()
        return total + own.children_user + own.children_system

    def call(name, send) -> bytes:
        children = decoders_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            if profiling:
                profiler.enable()
            response = send()
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if response.status_code != 200 or b"<responseCode>0<" not in response.content:
            raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
        row = totals.setdefault(name, [0, 0.0, 0.0, 0.0, 0])
        row[0] += 1
        row[1] += cpu
        row[2] += wall
        row[3] += decoders_cpu() - children
        row[4] += len(queries)
        statements[name] = [q["sql"] for q in queries.captured_queries]
        return response.content

    def report(index: int) -> None:
        document = exchange.REPORT.format(n=index).encode()
        answer = call("submit", lambda: client.post("/ispws/submit", document, content_type="text/xml"))
        report_id, file_ids = exchange.tag(answer, "reportId"), []
        for name, data in (("known.jpg", known), ("new.jpg", pictures[index % len(pictures)])):
            body, content_type = exchange.multipart({"id": report_id}, name, data)
            answer = call(
                "upload",
                lambda body=body, content_type=content_type: client.generic(
                    "POST", "/ispws/upload", body, content_type=content_type
                ),
            )
            file_ids.append(exchange.tag(answer, "fileId"))
        details = exchange.DETAILS.format(report=report_id, file=file_ids[1]).encode()
        call("fileinfo", lambda: client.post("/ispws/fileinfo", details, content_type="text/xml"))
        form = f"id={report_id}"
        call(
            "finish",
            lambda: client.post("/ispws/finish", form, content_type="application/x-www-form-urlencoded"),
        )
        call("status", lambda: client.get("/ispws/status"))

    for index in range(5):  # warm-up: caches, decoders, compiled schema
        report(index)
    totals.clear()
    profiling = args.profile  # on around each request only, not around the bench's own bookkeeping
    for index in range(5, 5 + args.reports):
        report(index)

    print(f"{args.reports} complete reports in one process; load average {os.getloadavg()[0]:.2f}")
    print(f"{'request':9} {'n':>5} {'CPU ms':>8} {'wall ms':>8} {'decoder CPU ms':>15} {'statements':>11}")
    for name, (n, cpu, wall, children, queries) in totals.items():
        print(
            f"{name:9} {n:>5} {cpu * 1000 / n:>8.2f} {wall * 1000 / n:>8.2f} "
            f"{children * 1000 / n:>15.2f} {queries / n:>11.1f}"
        )
    if args.sql:
        for name, sql in statements.items():
            print(f"--- {name}: {len(sql)} statements")
            for text in sql:
                print("   ", text[:400])
    if args.profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
