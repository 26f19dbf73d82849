"""The import contracts that `make lint` checks (lint-imports, configured in pyproject.toml) keep
the layers: the tree as it is passes, and a copy with one bad import fails with the contract named."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (file under src/openmnr, line appended, the contract that must catch it)
VIOLATIONS = {
    "the core imports Django": ("core/fetch.py", "import django.conf", "The core imports no Django"),
    "the core imports an app": ("core/lists.py", "import openmnr.banks.models", "Layers"),
    "takedown reaches into the hotline's models": (
        "takedown/notices.py",
        "from openmnr.hotline import models",
        "only through that app's services module",
    ),
    "the hotline imports takedown's clock": (
        "hotline/views.py",
        "from openmnr.takedown.services import clock",
        "only through that app's services module",
    ),
    "audit imports the web layer": ("audit/services.py", "import openmnr.web.home", "Layers"),
    "common imports an app": ("common/links.py", "import openmnr.accounts.roles", "Layers"),
    "a new package has no layer": ("reports/__init__.py", "", "Layers"),
}


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("violation", VIOLATIONS, ids=list(VIOLATIONS))
def test_a_bad_import_breaks_its_contract(violation, tmp_path):
    path, line, contract = VIOLATIONS[violation]
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        REPO / "src" / "openmnr", tmp_path / "src" / "openmnr", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = tmp_path / "src" / "openmnr" / path
    target.parent.mkdir(exist_ok=True)
    with target.open("a") as out:
        out.write(f"\n{line}\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken, result.stdout
