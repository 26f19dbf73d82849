"""docs/api.md's Python example, run as written by a separate Python process against a live
server: if the documented calls or answers drift from the API, this fails."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openmnr.accounts import apikeys

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _tested_block() -> str:
    text = DOC.read_text()
    after = text.split("This\nblock is run against a live server", 1)[1]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_documented_python_example_runs_against_a_live_server(live_server, make_user, shared, tmp_path):
    owner = make_user("industry_member")
    _key, text = apikeys.create_api_key(
        owner=owner, name="Docs", scopes=["banks.match_hashes", "banks.hash_media"]
    )
    picture = sorted((shared / "corpus" / "natural").glob("*.jpg"))[0]
    script = tmp_path / "example.py"
    script.write_text(_tested_block())
    env = {**os.environ, "OPENMNR": live_server.url, "KEY": text, "PICTURE": str(picture)}
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "api_key ['industry_member']"
    assert lines[1] == "False None"
    assert re.fullmatch(r"[0-9a-f]{64} \d+ [0-9a-f]{32}", lines[2])
    assert lines[3].startswith("invalid_input {'pdq': 'is not in the expected format")
