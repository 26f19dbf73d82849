"""Bank import and change-log benchmark: importing a hash list, and keeping a matcher current.

    .venv/bin/python bench/bank_import.py                 # 1M PDQ hashes on SQLite (a few minutes)
    .venv/bin/python bench/bank_import.py --n 100000      # smaller
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bank_import.py

Runs on a scratch database made like a test database (``test_<name>``, migrated, destroyed at the
end) and a scratch snapshot folder, so it never touches an installation's data. Rows:

- parse only: ``openmnr.core.lists.read_local`` over the file, the floor set by reading it;
- bulk_create (anchor): Django's usual bulk path, ``bulk_create`` of model instances in batches of
  10,000, on a tenth of the rows (it is several times slower; the rate column compares);
- raw executemany (anchor): the same rows inserted unsorted with one ``executemany`` per 10,000
  rows in one transaction, no parsing and no checks: roughly the floor set by the database;
- import, partner list: ``services.import_entries`` into a bank matched at once (target <= 60 s
  for 1M), including the change-log row and the audit event;
- import, confirmed bank + two confirmations: the same into a bank of confirmed CSAM, whose entries
  wait until ``confirm_import`` by two other senior analysts activates them;
- matcher applies the import: a process that was already matching applies the import's change-log
  row (reads the entries, adds them to its index) - what every web and worker process does;
- snapshot save / load: ``write_snapshot`` (build from the database and save) and ``read_snapshot``;
- 2,000 single changes: entries proposed one by one into a bank without confirmation and every
  other one disabled, each applied by the matcher as it comes. Its RSS column is the growth of the
  matcher process across them, which should stay flat (no rebuild per change).

Prints one table and writes bench/results/bank_import.json.
"""

import argparse
import io
import json
import os
import platform
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
CHANGES = 2_000


def rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def timed(rows, step, items, action, note=""):
    rss_before = rss_mib()
    started = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    rows.append(
        {
            "step": step,
            "items": items,
            "seconds": round(seconds, 3),
            "items_per_s": round(items / seconds) if seconds else None,
            "rss_growth_mib": round(rss_mib() - rss_before, 1),
            "note": note,
        }
    )
    print(f"  {step}: {seconds:.2f} s", file=sys.stderr)
    return result


def table(rows) -> str:
    lines = [
        "| step | items | seconds | items/s | RSS growth MiB | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        rate = f"{r['items_per_s']:,}" if r["items_per_s"] else "-"
        lines.append(
            f"| {r['step']} | {r['items']:,} | {r['seconds']:.2f} | {rate} | {r['rss_growth_mib']:.1f} | {r['note']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="hashes in the imported list")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="openmnr-bench-"))
    os.environ.setdefault("OPENMNR_VAR_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    # A throwaway key rather than OPENMNR_DEBUG=1: in debug mode Django keeps every query in memory.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("OPENMNR_AUDIT_KEY", secrets.token_hex(32))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.BANKS_INDEX_DIR = scratch / "index"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args, connection, settings)
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def run(args, connection, settings) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from openmnr.accounts.roles import sync_roles
    from openmnr.banks import matcher, services, snapshots
    from openmnr.banks.models import Bank, BankEntry, Purpose
    from openmnr.core import lists

    sync_roles()
    users = {}
    for name, role in [
        ("importer", "senior_analyst"),
        ("first", "senior_analyst"),
        ("second", "senior_analyst"),
        ("analyst", "analyst"),
    ]:
        user = get_user_model().objects.create_user(username=name)
        user.groups.add(Group.objects.get(name=role))
        users[name] = get_user_model().objects.get(pk=user.pk)
    roles = ["analyst", "senior_analyst"]
    partner = Bank.objects.create(name="partner", purpose=Purpose.PARTNER_LIST, match_roles=roles)
    confirmed = Bank.objects.create(name="confirmed", purpose=Purpose.CONFIRMED_CSAM, match_roles=roles)
    floor = Bank.objects.create(name="raw", purpose=Purpose.PARTNER_LIST, match_roles=roles)
    slow = Bank.objects.create(name="bulk_create", purpose=Purpose.PARTNER_LIST, match_roles=roles)
    small = Bank.objects.create(name="changes", purpose=Purpose.KNOWN_NON_ILLEGAL, match_roles=roles)

    print(f"generating {args.n:,} PDQ hashes ...", file=sys.stderr)
    rng = random.Random(args.seed)
    values = [rng.randbytes(32).hex() for _ in range(args.n)]
    data = "".join(f"pdq {v}\n" for v in values).encode()
    rows = []
    n = args.n

    # A matcher that is already running (empty), as in a web process before the import.
    process = matcher.Matcher(settings.BANKS_INDEX_DIR, poll_seconds=0)
    process.ensure_current()

    timed(
        rows,
        "parse only (lists.read_local)",
        n,
        lambda: sum(1 for _ in lists.read_local(io.StringIO(data.decode()))),
    )

    def django_bulk_create():
        with transaction.atomic():
            for start in range(0, n // 10, 10_000):
                chunk = values[start : min(start + 10_000, n // 10)]
                BankEntry.objects.bulk_create(
                    [
                        BankEntry(
                            bank=slow,
                            signal_type="pdq",
                            value=v,
                            classification="baseline",
                            status="active",
                            proposed_by=users["importer"],
                        )
                        for v in chunk
                    ],
                    ignore_conflicts=True,
                )

    timed(
        rows,
        "bulk_create, a tenth of the rows (anchor)",
        n // 10,
        django_bulk_create,
        "model instances, batches of 10,000",
    )

    def raw_insert():
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        sql = (
            "INSERT INTO banks_bankentry (bank_id, signal_type, value, classification, category, status, "
            "proposed_by_id, source_ref, disable_reason, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            for start in range(0, n, 10_000):
                chunk = values[start : start + 10_000]
                cursor.executemany(
                    sql,
                    [
                        (floor.pk, "pdq", v, "baseline", "", "active", users["importer"].pk, "", "", now)
                        for v in chunk
                    ],
                )

    timed(rows, "raw executemany (anchor)", n, raw_insert, "unsorted, no parsing, no checks, no change log")

    timed(
        rows,
        "import, partner list",
        n,
        lambda: services.import_entries(
            partner, data, fmt="local", by=users["importer"], classification="baseline"
        ),
        "services.import_entries; target <= 60 s at 1M",
    )

    def import_and_confirm():
        batch = services.import_entries(
            confirmed, data, fmt="local", by=users["importer"], classification="baseline"
        )
        services.confirm_import(batch, by=users["first"])
        services.confirm_import(batch, by=users["second"])

    timed(
        rows,
        "import, confirmed bank + 2 confirmations",
        n,
        import_and_confirm,
        "pending until the second confirm",
    )
    assert confirmed.entries.filter(status=BankEntry.Status.ACTIVE).count() == n

    timed(
        rows,
        "matcher applies both imports",
        2 * n,
        process.ensure_current,
        "two change-log rows: reads the entries, adds them to the running index",
    )
    indices = timed(
        rows,
        "snapshot save (build from database)",
        3 * n + n // 10,
        lambda: snapshots.write_snapshot(settings.BANKS_INDEX_DIR),
    )
    timed(
        rows,
        "snapshot load (memory-mapped)",
        indices.count(),
        lambda: snapshots.read_snapshot(settings.BANKS_INDEX_DIR),
    )

    def single_changes():
        entries = []
        for i in range(CHANGES):
            entry = services.propose_entry(
                small,
                signal_type="pdq",
                value=f"{i + 1:064x}",
                classification="not_illegal",
                by=users["analyst"],
            )
            if i % 2:
                services.disable_entry(entries[-1], by=users["first"], reason="bench")
            entries.append(entry)
            process.ensure_current()

    timed(
        rows,
        f"{CHANGES:,} single changes, each applied",
        CHANGES,
        single_changes,
        "propose (add) and every other one disabled",
    )
    assert process.seq == indices.seq + CHANGES + CHANGES // 2

    vendor = connection.vendor
    print(f"\nBank import and change log, {n:,} PDQ hashes, {vendor}")
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bank_import.json"
    machine = {"python": platform.python_version(), "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    out.write_text(json.dumps({"n": n, "database": vendor, "machine": machine, "rows": rows}, indent=2))
    print(f"load average {machine['load_average'][0]:.2f}; written to {out}")


if __name__ == "__main__":
    main()
