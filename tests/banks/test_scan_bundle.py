"""The scan bundle written from the banks for one account: a scan matches the banks that account
may match and nothing else, writing it is audited, and an account that may not match gets none."""

import shutil

import pytest

from helpers import bank_with_image
from openmnr.audit.models import AuditEvent
from openmnr.banks import services
from openmnr.banks.models import Bank
from openmnr.core.scan import sources, worker


@pytest.fixture(autouse=True)
def _index_dir(settings, tmp_path):
    settings.BANKS_INDEX_DIR = tmp_path / "index"


@pytest.fixture
def photos(shared):
    return sorted((shared / "corpus" / "natural").glob("*.jpg"))


@pytest.fixture
def two_banks(make_user, photos):
    """An industry member may match "Shared"; "Internal" is for analysts only."""
    admin, analyst = make_user("administrator"), make_user("analyst")
    seniors = make_user("senior_analyst"), make_user("senior_analyst")
    member = make_user("industry_member")
    shared = services.save_bank(
        Bank(
            name="Shared",
            purpose="partner_list",
            match_roles=["industry_member", "analyst", "senior_analyst"],
        ),
        match_accounts=[],
        by=admin,
    )
    internal = services.save_bank(
        Bank(name="Internal", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]),
        match_accounts=[],
        by=admin,
    )
    bank_with_image(shared, photos[0].read_bytes(), analyst, seniors[:1])  # shared: one confirmation
    bank_with_image(internal, photos[6].read_bytes(), analyst, seniors)
    return member, analyst


def _scan(folder, bundle) -> dict[str, dict]:
    items = sources.list_items([str(folder)])
    rows = []
    for batch in sources.batches(items, max_files=50, max_bytes=2**30):
        rows += worker.scan_batch(batch, str(bundle), worker.Options())
    return {row["path"]: row for row in rows}


@pytest.mark.django_db
def test_a_scan_matches_only_the_banks_its_account_may_match(two_banks, photos, tmp_path):
    member, analyst = two_banks
    folder = tmp_path / "files"
    folder.mkdir()
    for photo in (photos[0], photos[6], photos[12]):
        shutil.copy(photo, folder / photo.name)

    counts = services.write_scan_bundle(tmp_path / "member-bundle", user=member)
    assert counts["banks"] == 1 and counts["entries"] == 2
    rows = _scan(folder, tmp_path / "member-bundle")
    matched = {path: row["banks"] for path, row in rows.items() if row["match"]}
    assert matched == {str(folder / photos[0].name): "Shared"}
    assert rows[str(folder / photos[0].name)]["action"] == "partner_list"

    services.write_scan_bundle(tmp_path / "analyst-bundle", user=analyst)
    rows = _scan(folder, tmp_path / "analyst-bundle")
    matched = {path: row["banks"] for path, row in rows.items() if row["match"]}
    assert matched == {str(folder / photos[0].name): "Shared", str(folder / photos[6].name): "Internal"}
    assert rows[str(folder / photos[6].name)]["action"] == "confirmed_csam"

    events = AuditEvent.objects.filter(action="banks.scan_bundle")
    assert [e.actor for e in events.order_by("seq")] == [member.username, analyst.username]


@pytest.mark.django_db
def test_an_account_that_may_not_match_gets_no_bundle(make_user, tmp_path):
    with pytest.raises(services.NotAllowed):
        services.write_scan_bundle(tmp_path / "b", user=make_user("national_coordinator"))
    assert not (tmp_path / "b").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_scan_command_for_an_account(two_banks, photos, tmp_path, capsys):
    import json

    from openmnr.cli import main

    member, _analyst = two_banks
    folder = tmp_path / "files"
    folder.mkdir()
    for photo in photos[:8]:
        shutil.copy(photo, folder / photo.name)
    out = tmp_path / "out"
    status = main(
        ["scan", str(folder), "--out", str(out), "--as", member.username, "--workers", "1", "--format", "csv"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert status == 0 and summary["files"] == 8 and summary["matches"] == 1
    results = (out / "results.csv").read_text()
    assert results.count("\n") == 9 and "Shared" in results and "Internal" not in results
    assert main(["scan", str(folder), "--out", str(tmp_path / "o2"), "--as", "nobody-here"]) == 2
