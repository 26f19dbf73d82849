"""The curl example of docs/industry.md, run as written against a live server on 127.0.0.1."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "industry.md"


def example() -> str:
    text = DOC.read_text()
    section = text.split("### Worked example with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_documented_curl_exchange_works(ispws_server, provider, docs, tmp_path):
    (tmp_path / "photo1.jpg").write_bytes(docs.known)
    (tmp_path / "photo2.jpg").write_bytes(docs.new)
    env = {
        **os.environ,
        "BASE": f"{ispws_server.url}/ispws",
        "ISPWS_USER": provider.username,
        "ISPWS_PASSWORD": provider.password,
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert "<reportDoneResponse><responseCode>0</responseCode>" in last and last.count("<fileId>") == 2

    from openmnr.industry.models import Case

    case = Case.objects.get()
    assert case.report.files.count() == 2 and case.countries == ["PT"]
    assert case.report.files.filter(classification="B2", flags=["self_generated"]).exists()
