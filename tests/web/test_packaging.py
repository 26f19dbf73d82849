"""Every package the code imports is declared in pyproject.toml: the application's in
`dependencies`, the tests' and benchmarks' in the `dev` and `bench` extras. A package that only
arrives as another's dependency can vanish with that package's next release."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# live_streams, rtsp_relay: the synthetic live streams and the RTSP relay of tests/, which bench/live.py uses too.
OUR_OWN = {"openmnr", "helpers", "live_streams", "rtsp_relay"}


def _declared(*groups: str) -> set[str]:
    found = set()
    for group in groups:
        requirements = PROJECT["dependencies"] if group == "main" else PROJECT["optional-dependencies"][group]
        found |= {
            _normal(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements
        }
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported(folder: str) -> set[str]:
    names = set()
    for path in (REPO / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    # Modules of the folder itself, imported by their plain name (tests/helpers.py, bench/intake.py).
    local = {path.stem for path in (REPO / folder).iterdir() if path.suffix == ".py" or path.is_dir()}
    return {name for name in names if name not in sys.stdlib_module_names | OUR_OWN | local}


@pytest.mark.parametrize(
    ("folder", "groups"), [("src", ("main",)), ("tests", ("main", "dev")), ("bench", ("main", "bench"))]
)
def test_every_imported_package_is_declared(folder, groups):
    distributions = packages_distributions()
    declared = _declared(*groups)
    missing = {
        name: distributions.get(name)
        for name in _imported(folder)
        if not {_normal(d) for d in distributions.get(name, [name])} & declared
    }
    assert not missing, f"imported in {folder}/ but not declared in pyproject.toml: {missing}"
