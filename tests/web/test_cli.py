import subprocess
import sys

from openmnr import __version__


def _openmnr(*args):
    return subprocess.run(
        [sys.executable, "-m", "openmnr.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_command_with_a_line_each():
    out = _openmnr("--help").stdout
    for command in ("serve", "worker", "demo", "manage", "audit", "hash"):
        assert any(line.strip().startswith(command) and len(line.split()) > 1 for line in out.splitlines()), (
            command
        )


def test_version():
    assert _openmnr("--version").stdout.strip() == f"openmnr {__version__}"
