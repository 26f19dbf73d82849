"""The load and fault suite: partners file reports while web and task workers are killed with
SIGKILL and PostgreSQL is stopped for 30 seconds. Afterwards: every acknowledged report has its
case and its triage task, no case is duplicated, triage has drained the backlog without anyone
stepping in, intake answered 503 with Retry-After (never 500) while the database was down, and the
audit chain verifies.

The short run (a few kills) is part of `make test`; `make test-faults` runs the long one
(OPENMNR_FAULTS=long: 100 kills).
"""

import http.client
import json
import os
import subprocess
import time

import pytest

from faults.harness import BIN, PG_BIN, NotFoundSite, Partners, Platform, Postgres

LONG = os.environ.get("OPENMNR_FAULTS") == "long"
KILLS = 100 if LONG else 6
KILL_EVERY = 2.0 if LONG else 4.0
OUTAGE = 30.0

pytestmark = [
    pytest.mark.timeout(3600 if LONG else 900),
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason=f"PostgreSQL's initdb is not in {PG_BIN}"),
]


def _page_during_outage(port: int) -> tuple[int, str, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/staff/", headers={"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"})
    response = conn.getresponse()
    return response.status, response.read().decode(), response.getheader("Retry-After")


def _query(url: str, sql: str, *params):
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_nothing_acknowledged_is_lost_under_kills_and_a_database_outage(tmp_path):
    postgres = Postgres()
    site = NotFoundSite()
    platform = None
    try:
        postgres.start()
        url = postgres.create("openmnr")
        platform = Platform(url, tmp_path / "var", site.port)
        key = platform.prepare()
        platform.start()
        partners = Partners(platform.port, key, site.port)
        partners.start()

        kills = {"web": 0, "task": 0}
        outage_page = None
        outage_statuses: dict[int, int] = {}
        outage_at = KILLS // 2
        for number in range(KILLS):
            time.sleep(KILL_EVERY)
            if number % 2 == 0:
                kills["web"] += platform.kill_web_worker()
            else:
                platform.kill_task_worker()
                kills["task"] += 1
            if number == outage_at:
                before = dict(partners.tally.statuses)
                postgres.stop()
                time.sleep(3)
                outage_page = _page_during_outage(platform.port)
                time.sleep(OUTAGE - 3)
                outage_statuses = {s: n - before.get(s, 0) for s, n in partners.tally.statuses.items()}
                postgres.start()
        time.sleep(5)
        partners.stop(finish_within=120)
        tally = partners.tally

        # While the database was down: 503 with Retry-After, never 500; the page says so.
        assert outage_statuses.get(503, 0) > 0, outage_statuses
        assert 500 not in tally.statuses, tally.statuses
        assert tally.unavailable_without_retry_after == 0
        status, page, retry_after = outage_page
        assert status == 503 and retry_after and "briefly unavailable" in page
        assert kills["web"] >= KILLS // 2 - 1 and kills["task"] == KILLS // 2

        # Every report in flight when the load stopped was acknowledged in the end.
        assert set(tally.acknowledged) == set(tally.urls), "some reports were never acknowledged"
        keys = list(tally.acknowledged)
        stored = dict(
            _query(
                url,
                "SELECT idempotency_key, id FROM hotline_submission WHERE idempotency_key = ANY(%s)",
                keys,
            )
        )
        assert stored == tally.acknowledged, "an acknowledged report is missing or has another id"
        duplicates = _query(
            url, "SELECT url_sha256 FROM hotline_case GROUP BY url_sha256 HAVING count(*) > 1"
        )
        assert duplicates == []
        cases = dict(
            _query(
                url,
                "SELECT s.idempotency_key, r.case_id FROM hotline_submission s "
                "JOIN hotline_reportedurl r ON r.submission_id = s.id WHERE s.idempotency_key = ANY(%s)",
                keys,
            )
        )
        assert set(cases) == set(keys), "an acknowledged report has no case"

        # The backlog drains by itself: every case triaged (the site answers 404: not actionable).
        deadline = time.monotonic() + (600 if LONG else 300)
        while time.monotonic() < deadline:
            waiting = _query(url, "SELECT count(*) FROM hotline_case WHERE state = 'received'")[0][0]
            if waiting == 0:
                break
            time.sleep(3)
        assert waiting == 0, f"{waiting} cases still wait for triage"
        queued = {
            row[0]["args"][0]
            for row in _query(
                url,
                "SELECT args_kwargs FROM django_tasks_database_dbtaskresult WHERE task_path LIKE %s",
                "%triage_case",
            )
        }
        assert set(cases.values()) <= queued, "a case never had its triage task"

        platform.stop()
        verify = subprocess.run(
            [str(BIN / "openmnr"), "audit", "verify"], env=platform.env, capture_output=True, text=True
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        print(
            json.dumps(
                {
                    "acknowledged": len(tally.acknowledged),
                    "statuses": tally.statuses,
                    "kills": kills,
                    "connection_errors": tally.connection_errors,
                    "outage_statuses": outage_statuses,
                }
            )
        )
    finally:
        if platform is not None:
            platform.stop()
        site.close()
        postgres.destroy()
