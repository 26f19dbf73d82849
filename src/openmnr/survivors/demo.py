"""Demo survivor's case for `make run`: two benign photographs sent as if from the Take it down page.

The hashes are computed here as the page computes them in the browser (PDQ of the full picture,
MD5, SHA-256); the photographs are from the benign test corpus, NOT abuse material. The demo
industry member reports one removal, so the status page has a count to show. The case's code is
shown once, like any code: it is kept in VAR_DIR/demo-survivor-code.txt so that re-running the demo
prints it again. Nothing is created twice.
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from openmnr.common.demo import base_url
from openmnr.core.signals import pdq

from . import intake, outcomes
from .models import Case, code_digest

CORPUS = Path(settings.SRC_DIR).parents[1].parent / "shared" / "corpus" / "natural"
PHOTOS = ["motorcycle-02.jpg", "hubble_deep_field-03.jpg"]


def _code_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-survivor-code.txt"


def _item(name: str) -> dict:
    data = (CORPUS / name).read_bytes()
    hashed = pdq.hash_media(data, mode="reference")
    return {
        "kind": "photo",
        "pdq": hashed.value,
        "pdq_quality": hashed.quality,
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def load(out) -> None:
    if not CORPUS.is_dir():
        out.write(f"\nDemo survivor's case skipped: the benign corpus {CORPUS} is missing.\n")
        return
    path = _code_file()
    code = path.read_text().strip() if path.exists() else ""
    if not code or not Case.objects.filter(code_digest=code_digest(code.replace("-", ""))).exists():
        receipt = intake.open_case([_item(name) for name in PHOTOS], pictured=True, under_18=True)
        Case.objects.filter(pk=receipt.case_id).update(is_demo=True)
        industry = get_user_model().objects.get(username="industry-member")
        first = _item(PHOTOS[0])
        outcomes.report(
            [{"pdq": first["pdq"], "outcome": "removed", "reference": "demo-upload-1"}], user=industry
        )
        code = receipt.code
        path.write_text(code + "\n")
        path.chmod(0o600)
    out.write("\nDemo survivor's case (benign stand-ins, not abuse material):\n")
    out.write(f"  code {code}: read it on {base_url()}/take-it-down/status/\n")
