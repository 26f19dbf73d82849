"""Demo banks for `make run`: benign photographs stand in for listed material.

"Confirmed CSAM (demo)" holds the PDQ and MD5 of a few photographs from the benign test corpus
(scikit-image sample images): they are NOT abuse material, only stand-ins so that the match API
and the pages have something to find. The analyst demo user proposed them; "senior-analyst" and
"senior-analyst-2" confirmed them (four eyes); one more waits in the confirmation queue. "Partner
list (demo)" holds two more stand-ins, imported by the senior analyst. The confirmed bank also
holds the vPDQ and MD5 of a benign test video (a doorknob, from the shared test vectors), so that
video matching can be tried at once by uploading that video. Run again, nothing is created twice.
Needs the demo users of web/demo.py; "senior-analyst-2" is one of them (``USERS``), so that four
eyes can be tried with two logins.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from openmnr.common.demo import base_url
from openmnr.core import signals

from . import services
from .models import Bank, BankEntry, Purpose

CORPUS = Path(settings.SRC_DIR).parents[1].parent / "shared" / "corpus" / "natural"
CONFIRMED = ["astronaut-01.jpg", "coffee-02.jpg", "rocket-03.jpg"]
AWAITING = "chelsea-04.jpg"
VIDEO = CORPUS.parents[1] / "vectors" / "pdq" / "video" / "doorknob-hd-no-bar.mp4"
# A second senior analyst, so four eyes can be tried (web/demo.py prints its login).
USERS = {"senior-analyst-2": "senior_analyst"}
PARTNER = ["camera-05.jpg", "moon-06.jpg"]
ROLES = ["analyst", "senior_analyst", "industry_member", "partner_hotline"]
STAND_IN = (
    "Benign demo stand-ins: photographs from scikit-image's sample images, NOT abuse material. "
    "They only show how matching works."
)


def _user(username: str, role: str):
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()  # only confirms the demo entries; nobody signs in as it
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def _bank(name: str, purpose: str, provenance: str, by) -> Bank:
    bank = Bank.objects.filter(name=name).first()
    if bank is None:
        bank = services.save_bank(
            Bank(name=name, purpose=purpose, description=STAND_IN, provenance=provenance, match_roles=ROLES),
            match_accounts=[],
            by=by,
        )
    return bank


def _hashes(name: str) -> dict[str, str]:
    """The stand-in's PDQ and MD5 (the demo lists pictures as many partners do: by those two)."""
    return signals.hash_path(CORPUS / name, only=("pdq", "md5")).raise_for_error().texts()


def _video_hashes(path: Path) -> dict[str, str]:
    return signals.hash_path(path, only=("vpdq", "md5")).raise_for_error().texts()


def _propose(bank: Bank, name: str, analyst, hashes: dict[str, str] | None = None) -> list[BankEntry]:
    # What a hotline item matching a demo entry takes over (docs/hotline.md, "Classification").
    described = {
        "classification": "baseline",
        "category": "demo stand-in",
        "age_group": "prepubescent",
        "gender": "not_determined",
        "flags": [],
        "source_ref": f"demo: {name}",
        "by": analyst,
    }
    entries = []
    for signal_type, value in (hashes or _hashes(name)).items():
        # Found by its source, not its value: a bank stores a vPDQ in its own normal form.
        entry = bank.entries.filter(signal_type=signal_type, source_ref=f"demo: {name}").first()
        if entry is None and signal_type == "pdq" and hashes is None:
            # Proposed as the picture, so that with OPENMNR_MATCH_FEATURES on it keeps its
            # keypoints and cropped or slightly rotated copies of it are found too.
            entry = services.propose_picture(bank, (CORPUS / name).read_bytes(), **described)
        if entry is None:
            entry = services.propose_entry(bank, signal_type=signal_type, value=value, **described)
        entries.append(entry)
    return entries


@transaction.atomic
def load(out) -> None:
    if not CORPUS.is_dir():
        out.write(f"\nDemo banks skipped: the benign corpus {CORPUS} is missing.\n")
        return
    analyst = _user("analyst", "analyst")
    senior = _user("senior-analyst", "senior_analyst")
    second_senior = _user("senior-analyst-2", "senior_analyst")
    administrator = _user("administrator", "administrator")

    confirmed = _bank(
        "Confirmed CSAM (demo)",
        Purpose.CONFIRMED_CSAM,
        "Demo data: proposed by the demo analyst, confirmed by two demo senior analysts.",
        administrator,
    )
    videos = [VIDEO.name] if VIDEO.is_file() else []
    for name in CONFIRMED + videos:
        hashes = _video_hashes(VIDEO) if name == VIDEO.name else None
        for entry in _propose(confirmed, name, analyst, hashes):
            for confirmer in (senior, second_senior):
                if (
                    entry.status == BankEntry.Status.PENDING
                    and not entry.confirmations.filter(confirmed_by=confirmer).exists()
                ):
                    entry = services.confirm_entry(entry, by=confirmer)
    _propose(confirmed, AWAITING, analyst)

    partner = _bank(
        "Partner list (demo)",
        Purpose.PARTNER_LIST,
        "Demo data: as if received from a partner hotline in ThreatExchange's local file format.",
        administrator,
    )
    lines = "".join(f"pdq {_hashes(name)['pdq']}\n" for name in PARTNER)
    if not partner.imports.exists():
        batch = services.import_entries(
            partner,
            lines.encode(),
            fmt="local",
            by=senior,
            classification="baseline",
            source_ref="demo partner",
        )
        services.confirm_import(batch, by=second_senior)

    out.write("\nDemo banks (benign stand-ins, not abuse material):\n")
    for bank in (confirmed, partner):
        active = bank.entries.filter(status=BankEntry.Status.ACTIVE).count()
        pending = bank.entries.filter(status=BankEntry.Status.PENDING).count()
        out.write(f"  {bank.name}: {active} active, {pending} awaiting confirmation\n")
    out.write(
        f"  Try: curl -F file=@{CORPUS / CONFIRMED[0]} -H 'Authorization: Bearer <industry key>' "
        f"{base_url()}/api/v1/match\n"
    )
    if videos:
        out.write(f"  Video: upload {VIDEO} on {base_url()}/staff/banks/match/ to see a video match\n")
