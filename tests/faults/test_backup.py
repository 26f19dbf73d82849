"""Backup and restore (scripts/backup, scripts/restore): a backup restored into an empty database
on a PostgreSQL of the test's own holds every report and every audit event, the evidence files
come back, and `openmnr audit verify` passes against the restored checkpoints."""

import os
import subprocess
from pathlib import Path

import pytest

from faults.harness import BIN, PG_BIN, Platform, Postgres

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.faults,
    pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason=f"PostgreSQL's initdb is not in {PG_BIN}"),
]

FILE_REPORTS = """
from openmnr.hotline.intake import ReportInput, receive_public
for n in range(5):
    receive_public(ReportInput(urls=[f"https://example.org/backup/{n}"]), is_demo=True)
from openmnr.audit.models import AuditEvent
from openmnr.hotline.models import Submission
print(Submission.objects.count(), AuditEvent.objects.count())
"""

COUNTS = """
from openmnr.audit.models import AuditEvent
from openmnr.hotline.models import Submission
print(Submission.objects.count(), AuditEvent.objects.count())
"""


def _run(command, env):
    return subprocess.run([str(c) for c in command], env=env, capture_output=True, text=True)


def test_a_backup_restored_into_an_empty_database_verifies(tmp_path):
    postgres = Postgres()
    try:
        postgres.start()
        source = Platform(postgres.create("source"), tmp_path / "var", 0)
        source.prepare()
        before = source.python(FILE_REPORTS).splitlines()[-1]
        checkpoint = _run([BIN / "openmnr", "audit", "checkpoint"], source.env)
        assert checkpoint.returncode == 0, checkpoint.stderr
        evidence = tmp_path / "var" / "evidence" / "case-1"
        evidence.mkdir(parents=True)
        (evidence / "item.bin").write_bytes(b"sealed evidence bytes")

        env = {**source.env, "PATH": f"{BIN}:{os.environ['PATH']}"}
        backup = _run([ROOT / "scripts" / "backup", tmp_path / "backup"], env)
        assert backup.returncode == 0, backup.stderr

        restored_env = {
            **env,
            "DATABASE_URL": postgres.create("restored"),
            "OPENMNR_VAR_DIR": str(tmp_path / "restored-var"),
            "OPENMNR_BIN": str(BIN / "openmnr"),
        }
        restore = _run([ROOT / "scripts" / "restore", tmp_path / "backup"], restored_env)
        assert restore.returncode == 0, restore.stdout + restore.stderr
        assert "audit chain intact" in restore.stdout and "matches the checkpoint" in restore.stdout

        restored = Platform(restored_env["DATABASE_URL"], tmp_path / "restored-var", 0)
        restored.env.update(
            OPENMNR_AUDIT_KEY=source.env["OPENMNR_AUDIT_KEY"], SECRET_KEY=source.env["SECRET_KEY"]
        )
        assert restored.python(COUNTS).splitlines()[-1] == before
        item = tmp_path / "restored-var" / "evidence" / "case-1" / "item.bin"
        assert item.read_bytes() == b"sealed evidence bytes"

        # A restore never lands on a database that already holds data.
        again = _run([ROOT / "scripts" / "restore", tmp_path / "backup"], restored_env)
        assert again.returncode != 0

        # Restored under another audit key, the chain does not verify.
        wrong = _run([BIN / "openmnr", "audit", "verify"], {**restored_env, "OPENMNR_AUDIT_KEY": "ab" * 32})
        assert wrong.returncode != 0
    finally:
        postgres.destroy()
