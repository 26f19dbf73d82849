"""Changes reach every process: a second Python process on the same database (SQLite file or
PostgreSQL) matches an entry confirmed here, and drops it from its index once it is disabled here,
without restarting. How soon (the 5 s target) is measured by bench/propagation.py, not here."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from helpers import LineReader
from openmnr.banks import services
from openmnr.banks.models import MatcherHeartbeat

PDQ = "d8f8f0cce0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
NEAR = PDQ[:-2] + "dd"  # six bits away
# How long the test waits for a change before it fails: a bound against hanging, not a measure.
GIVE_UP_AFTER = 60.0


class OtherProcess:
    def __init__(self, index_dir: Path, username: str):
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("matcher_process.py")),
                str(connection.settings_dict["NAME"]),
                str(index_dir),
                username,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.output = LineReader(self.process.stdout)
        self.pid = json.loads(self.output.readline(timeout=120))["ready"]

    def ask(self, item: dict) -> dict:
        self.process.stdin.write(json.dumps(item) + "\n")
        self.process.stdin.flush()
        return json.loads(self.output.readline(timeout=60))

    def wait_for(self, item: dict, condition) -> dict:
        """Ask until ``condition(answer)`` holds; the last answer (the test's assertion shows it
        when the change never arrived)."""
        deadline = time.monotonic() + GIVE_UP_AFTER
        while True:
            answer = self.ask(item)
            if condition(answer) or time.monotonic() > deadline:
                return answer
            time.sleep(0.05)

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_change_made_here_is_matched_in_another_process_without_a_restart(make_bank, make_user, tmp_path):
    analyst, first, second = make_user("analyst"), make_user("senior_analyst"), make_user("senior_analyst")
    bank = make_bank()
    other = OtherProcess(tmp_path / "index", analyst.username)
    try:
        assert other.ask({"pdq": NEAR}) == {"service": [], "index": [], "seq": 0}  # loaded, empty

        entry = services.propose_entry(
            bank, signal_type="pdq", value=PDQ, classification="baseline", by=analyst
        )
        services.confirm_entry(entry, by=first)
        services.confirm_entry(entry, by=second)
        answer = other.wait_for({"pdq": NEAR}, lambda a: a["service"] == [entry.pk])
        assert answer["service"] == [entry.pk]

        services.disable_entry(entry, by=first, reason="test")
        answer = other.wait_for({"pdq": NEAR}, lambda a: a["index"] == [])
        assert answer == {"service": [], "index": [], "seq": 2}

        beat = MatcherHeartbeat.objects.get(pid=other.pid)
        assert beat.applied_seq == 2 and beat.loaded_from == "database"
    finally:
        other.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_process_started_later_loads_the_snapshot_and_replays_the_rest(make_bank, make_user, tmp_path):
    analyst, senior = make_user("analyst"), make_user("senior_analyst")
    bank = make_bank(purpose="partner_list")
    values = [f"{i:064x}" for i in range(1, 6)]
    data = "".join(f"pdq {v}\n" for v in values[:3]).encode()
    services.import_entries(bank, data, fmt="local", by=senior, classification="baseline")
    first = OtherProcess(tmp_path / "index", analyst.username)  # builds from the database, saves a snapshot
    try:
        assert len(first.ask({"pdq": values[0]})["index"]) == 3  # the five values lie within 31 bits
    finally:
        first.close()
    assert (tmp_path / "index" / "current.json").exists()

    for value in values[3:]:
        services.propose_entry(bank, signal_type="pdq", value=value, classification="baseline", by=analyst)
    later = OtherProcess(tmp_path / "index", analyst.username)
    try:
        answer = later.ask({"pdq": values[0]})
        assert len(answer["index"]) == 5 and answer["seq"] == 3
        assert MatcherHeartbeat.objects.get(pid=later.pid).loaded_from == "snapshot"
    finally:
        later.close()
