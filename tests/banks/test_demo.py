"""The demo banks: benign stand-ins, confirmed by two demo seniors, loaded once however often run."""

import io

import pytest
from django.contrib.auth import get_user_model

from openmnr.banks import demo, services
from openmnr.banks.models import Bank, BankEntry
from openmnr.web.demo import ensure_demo_users


@pytest.mark.django_db
def test_demo_banks_load_once_and_match_their_stand_ins(settings, tmp_path, shared):
    settings.VAR_DIR = tmp_path
    ensure_demo_users()
    demo.load(io.StringIO())
    counts = (
        Bank.objects.count(),
        BankEntry.objects.count(),
        BankEntry.objects.filter(status="active").count(),
    )
    output = io.StringIO()
    demo.load(output)
    # Three pictures and the demo video (each by two signals), two partner pictures, one awaiting.
    assert (Bank.objects.count(), BankEntry.objects.count(), counts[2]) == counts == (2, 12, 10)
    video = Bank.objects.get(name="Confirmed CSAM (demo)").entries.get(signal_type="vpdq")
    assert video.status == "active" and video.source_ref == f"demo: {demo.VIDEO.name}"
    assert "not abuse material" in output.getvalue()

    confirmed = Bank.objects.get(name="Confirmed CSAM (demo)")
    assert "NOT abuse material" in confirmed.description
    entry = confirmed.entries.filter(status="active").first()
    assert sorted(entry.confirmations.values_list("confirmed_by__username", flat=True)) == [
        "senior-analyst",
        "senior-analyst-2",
    ]
    assert confirmed.entries.filter(status="pending").count() == 2  # one picture awaits the queue

    member = get_user_model().objects.get(username="industry-member")
    picture = (shared / "corpus" / "natural" / demo.CONFIRMED[0]).read_bytes()
    hashes = services.hash_upload(picture)
    (result,) = services.match([{"pdq": hashes["pdq"].value, "md5": hashes["md5"].value}], user=member)
    assert result.matched and result.action == "confirmed_csam"
