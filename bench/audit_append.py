"""Audit append benchmark: what keying the chain costs an append, and what a checkpoint and a full
verification cost.

    .venv/bin/python bench/audit_append.py [--n 5000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/audit_append.py

Runs on a scratch database made like a test database (migrated, destroyed at the end). Rows, in one
run on the same database:

- append, unkeyed SHA-256 chain (anchor): ``audit.services.record`` with the hash computed as the
  chain did before it was keyed (plain SHA-256 of the previous hash and the event);
- append, keyed HMAC chain: ``record`` as it is (HMAC-SHA256 under the audit key);
- checkpoint: ``checkpoints.write`` after the appends (checks every event since the previous one,
  all of them here, then appends a signed line);
- verify: ``services.verify`` of the whole chain against that checkpoint.

Each append is its own transaction, as in a request (the hotline intake writes one per report).
Prints one table and writes bench/results/audit_append.json.
"""

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="events appended per row")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="openmnr-bench-"))
    os.environ.setdefault("OPENMNR_VAR_DIR", str(scratch))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("OPENMNR_AUDIT_KEY", secrets.token_hex(32))
    os.environ["OPENMNR_AUDIT_CHECKPOINT_DIR"] = str(scratch / "checkpoints")
    import django

    django.setup()
    from django.db import connection

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rows = run(args.n)
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    print(table(rows, connection.vendor))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "audit_append.json").write_text(
        json.dumps(
            {
                "database": connection.vendor,
                "machine": platform.machine(),
                "load": os.getloadavg(),
                "rows": rows,
            },
            indent=2,
        )
    )


def run(n: int) -> list[dict]:
    from unittest import mock

    from openmnr.audit import checkpoints, services
    from openmnr.audit.models import AuditEvent, AuditHead
    from openmnr.audit.triggers import lifted

    rows = []
    keyed = services.chain_hash

    def unkeyed(prev_hash, event, key):
        return keyed(prev_hash, event, None)

    def appends():
        for i in range(n):
            services.record("bench.event", object_type="bench", object_id=str(i), detail={"i": i})

    # The anchor first; its events are then removed (they do not fit the keyed chain), and the head
    # set back, so that the keyed appends, the checkpoint and the verification see a valid chain.
    with mock.patch.object(services, "chain_hash", unkeyed):
        rows.append(timed("append, unkeyed SHA-256 chain (anchor)", n, appends))
    with lifted():
        AuditEvent.objects.filter(action="bench.event").delete()
    last = AuditEvent.objects.order_by("seq").last()
    AuditHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)
    rows.append(timed("append, keyed HMAC chain", n, appends))
    events = AuditEvent.objects.count()
    rows.append(timed("checkpoint (checks every event first)", events, checkpoints.write))
    result = {}
    rows.append(
        timed("verify the whole chain against it", events, lambda: result.update(ok=services.verify().ok))
    )
    assert result["ok"], "the benchmark's own chain does not verify"
    return rows


def timed(step: str, items: int, action) -> dict:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {step}: {seconds:.2f} s", file=sys.stderr)
    return {"step": step, "items": items, "seconds": round(seconds, 3), "per_s": round(items / seconds)}


def table(rows: list[dict], vendor: str) -> str:
    lines = [
        f"audit chain on {vendor}, load average {os.getloadavg()[0]:.2f}",
        "| step | events | seconds | events/s |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {r['step']} | {r['items']:,} | {r['seconds']:.2f} | {r['per_s']:,} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
