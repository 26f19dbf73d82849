import os
import re
import stat
import subprocess
import sys

import pytest

from openmnr import __version__


def _openmnr(*args):
    return subprocess.run(
        [sys.executable, "-m", "openmnr.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_command_with_a_line_each():
    out = _openmnr("--help").stdout
    for command in ("serve", "worker", "demo", "manage", "audit", "hash", "referral", "local-settings"):
        assert any(line.strip().startswith(command) and len(line.split()) > 1 for line in out.splitlines()), (
            command
        )


def test_version():
    assert _openmnr("--version").stdout.strip() == f"openmnr {__version__}"


def _bare_env(var_dir) -> dict:
    """The environment of a shell in a fresh checkout: no key, no debug, no database URL (and not
    under pytest, whose runs ignore var/local.env)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("OPENMNR_") and name not in ("SECRET_KEY", "DATABASE_URL", "PYTEST_VERSION")
    }
    return {**env, "OPENMNR_VAR_DIR": str(var_dir)}


def _in(var_dir, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "openmnr.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**_bare_env(var_dir), **env},
    )


def test_without_local_settings_a_command_asks_for_the_secret_key(tmp_path):
    result = _in(tmp_path, "audit", "verify")
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    # The demo's own hint, run where no demo was set up: a line that says what to do, no traceback.
    codes = _in(tmp_path, "manage", "demo_codes")
    assert codes.returncode == 2 and "Traceback" not in codes.stderr
    assert "var/local.env" in codes.stderr and "SECRET_KEY must be set" in codes.stderr


@pytest.mark.slow
def test_after_make_runs_first_step_every_command_works_without_a_variable(tmp_path):
    made = _in(tmp_path, "local-settings")
    assert made.returncode == 0, made.stderr
    local = tmp_path / "local.env"
    assert stat.S_IMODE(local.stat().st_mode) == 0o600
    key = local.read_text()
    assert _in(tmp_path, "local-settings").returncode == 0 and local.read_text() == key  # kept

    assert _in(tmp_path, "manage", "migrate", "--verbosity", "0").returncode == 0
    demo = _in(tmp_path, "demo", PORT="8123")
    assert demo.returncode == 0 and "http://127.0.0.1:8123/" in demo.stdout, demo.stderr
    codes = _in(tmp_path, "manage", "demo_codes")
    assert codes.returncode == 0 and re.search(r"^senior-analyst-2 +\d{6}$", codes.stdout, re.M), codes.stderr

    assert _in(tmp_path, "manage", "migrate", "--verbosity", "0").returncode == 0
    verified = _in(tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "audit chain intact" in verified.stdout, verified.stderr

    show_debug = [
        "manage",
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
    ]
    assert _in(tmp_path, *show_debug).stdout.strip() == "True"
    # the environment wins (production also needs the audit chain's key, as it needs SECRET_KEY)
    production = {"OPENMNR_DEBUG": "0", "OPENMNR_AUDIT_KEY": "a" * 64}
    assert _in(tmp_path, *show_debug, **production).stdout.strip() == "False"


def test_local_settings_readable_by_others_are_refused(tmp_path):
    assert _in(tmp_path, "local-settings").returncode == 0
    (tmp_path / "local.env").chmod(0o644)
    result = _in(tmp_path, "audit", "verify")
    assert result.returncode != 0 and "chmod 600" in result.stderr
