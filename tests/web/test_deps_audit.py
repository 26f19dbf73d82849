"""`make test` audits the dependencies with pip-audit: a known vulnerability fails it, an
unreachable vulnerability service is a loud skip (or a failure where the audit is required)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _judge(tmp_path, report, **env):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    environment = {k: v for k, v in os.environ.items() if k != "OPENMNR_REQUIRE_DEPS_AUDIT"} | env
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "audit-deps"), "--from-json", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )
    return done.returncode, done.stdout


def test_a_known_vulnerability_fails_the_step(tmp_path):
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "6.1.0",
                "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["6.1.1"]}],
            },
            {"name": "numpy", "version": "2.3.0", "vulns": []},
        ]
    }
    code, out = _judge(tmp_path, report)
    assert code == 1 and "django 6.1.0: PYSEC-2099-1 (fixed in 6.1.1)" in out


def test_a_clean_audit_passes_and_names_what_it_could_not_audit(tmp_path):
    report = {
        "dependencies": [
            {"name": "django", "version": "6.1.3", "vulns": []},
            {"name": "private-thing", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    code, out = _judge(tmp_path, report)
    assert code == 0 and "1 packages, no known vulnerabilities" in out and "private-thing" in out


def test_an_unreachable_service_is_a_loud_skip_unless_the_audit_is_required(tmp_path):
    report = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI"}]}
    code, out = _judge(tmp_path, report)
    assert code == 0 and "SKIPPED" in out and "did NOT happen" in out
    code, _ = _judge(tmp_path, report, OPENMNR_REQUIRE_DEPS_AUDIT="1")
    assert code == 1


def test_make_test_runs_the_audit():
    makefile = (ROOT / "Makefile").read_text()
    test_line = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "deps-audit" in test_line.split()
    assert "scripts/audit-deps" in makefile
    assert '"pip-audit' in (ROOT / "pyproject.toml").read_text()
