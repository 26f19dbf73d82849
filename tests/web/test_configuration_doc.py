"""docs/configuration.md lists every variable the settings read, whichever section module reads it."""

import re
from pathlib import Path

import openmnr.web.settings as settings_package

ROOT = Path(__file__).resolve().parents[2]


def test_every_variable_the_settings_read_is_documented():
    folder = Path(settings_package.__file__).parent
    read = set()
    for module in folder.glob("*.py"):
        read |= set(re.findall(r'"(OPENMNR_[A-Z0-9_]+)"', module.read_text()))
    assert len(read) > 100  # the settings were found (one module per section)
    documented = (ROOT / "docs" / "configuration.md").read_text()
    assert sorted(name for name in read if name not in documented) == []
