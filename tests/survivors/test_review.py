"""Staff work: held pictures released or rejected, and a self-reported picture proposed for the
confirmed bank once an analyst saw matching content, confirmed by two other seniors (four eyes)."""

import hashlib

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import services as banks
from openmnr.banks.models import Bank, BankEntry, Purpose
from openmnr.survivors.models import Item
from survivors.pictures import hashes_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(open_case, photos, settings):
    """A case whose first picture was held (sent during a flood), the second active."""
    settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR = 1
    open_case(photos[5:6])
    answer, code = open_case(photos[:1])
    settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR = 500
    assert answer["items"][0]["state"] == "held"
    return Item.objects.get(state="held"), code


def action(user, item):
    (result,) = banks.match([{"md5": item["md5"]}], user=user)
    return result.action


def test_the_held_list_and_a_release(staff_client, held, photos, make_user):
    item, _ = held
    client, user = staff_client("analyst")
    page = client.get("/staff/survivors/held/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert f"Item {item.pk}" in page.content.decode() and "flood" in page.content.decode()
    detail = client.get(f"/staff/survivors/items/{item.pk}/").content.decode()
    assert photos[0]["md5"] not in detail and photos[0]["md5"][:8] in detail  # masked
    response = client.post(f"/staff/survivors/items/{item.pk}/release/")
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.state == "active" and item.reviewed_by == user
    assert action(make_user("industry_member"), photos[0]) == "survivor_reported"
    assert AuditEvent.objects.get(action="survivors.item_release").actor == user.username


def test_a_rejected_picture_sent_again_is_held_again(staff_client, held, open_case, photos, make_user):
    item, _ = held
    client, _ = staff_client("senior_analyst")
    client.post(f"/staff/survivors/items/{item.pk}/reject/", {"note": ""})
    item.refresh_from_db()
    assert item.state == "held"  # a rejection needs a reason
    response = client.post(f"/staff/survivors/items/{item.pk}/reject/", {"note": "a well-known meme"})
    assert response.status_code == 302  # POST-redirect-GET
    item.refresh_from_db()
    assert item.state == "rejected" and item.review_note == "a well-known meme"
    assert action(make_user("industry_member"), photos[0]) is None
    answer, _ = open_case(photos[:1])
    assert answer["items"][0]["state"] == "held"
    assert Item.objects.filter(state="held").get().hold_reason == "previously_rejected"
    # And a rejected item cannot be released afterwards.
    client.post(f"/staff/survivors/items/{item.pk}/release/")
    item.refresh_from_db()
    assert item.state == "rejected"


def test_an_entry_staff_disabled_is_not_brought_back_by_a_survivor(
    staff_client, open_case, photos, make_user
):
    _, _ = open_case(photos[:1])
    entry = BankEntry.objects.get(bank__purpose=Purpose.SURVIVOR_REPORTED, signal_type="md5")
    senior = make_user("senior_analyst")
    bank = entry.bank
    bank.match_roles = ["analyst", "senior_analyst", "industry_member"]
    bank.save()
    banks.disable_entry(entry, by=senior, reason="not what it claims")
    answer, _ = open_case(photos[:1])
    assert answer["items"][0]["state"] == "held"
    assert Item.objects.get(state="held").hold_reason == "previously_rejected"
    entry.refresh_from_db()
    assert entry.status == "disabled"


def test_propose_for_the_confirmed_bank_then_four_eyes(staff_client, open_case, photos, make_user):
    from openmnr.hotline.models import Case as HotlineCase

    industry = make_user("industry_member")
    open_case(photos[:1])
    item = Item.objects.get()
    confirmed = Bank.objects.create(
        name="Confirmed",
        purpose=Purpose.CONFIRMED_CSAM,
        match_roles=["analyst", "senior_analyst", "industry_member"],
    )
    url = "https://example.org/upload/1"
    report = HotlineCase.objects.create(url=url, url_sha256=hashlib.sha256(url.encode()).hexdigest())
    client, proposer = staff_client("senior_analyst")
    form = {"bank": confirmed.pk, "classification": "baseline", "category": "A", "evidence_kind": "hotline"}
    # Evidence must name a hotline case that exists.
    client.post(f"/staff/survivors/items/{item.pk}/propose/", {**form, "evidence_ref": "999999"})
    assert not confirmed.entries.exists()
    response = client.post(
        f"/staff/survivors/items/{item.pk}/propose/", {**form, "evidence_ref": str(report.pk)}
    )
    assert response.status_code == 302  # POST-redirect-GET
    proposed = list(confirmed.entries.order_by("signal_type"))
    assert [e.signal_type for e in proposed] == ["md5", "pdq", "sha256"]
    assert {e.status for e in proposed} == {"pending"}
    assert proposed[0].source_ref == f"self-reported item {item.pk}; seen in hotline case {report.pk}"
    item.refresh_from_db()
    assert item.proposed_by == proposer and item.evidence == f"hotline case {report.pk}"
    assert action(industry, photos[0]) == "survivor_reported"  # not confirmed yet
    # Four eyes: the proposer cannot confirm; two other seniors must.
    with pytest.raises(banks.FourEyesViolation):
        banks.confirm_entry(proposed[0], by=proposer)
    for entry in proposed:
        for senior in (make_user("senior_analyst"), make_user("senior_analyst")):
            banks.confirm_entry(entry, by=senior)
    assert action(industry, photos[0]) == "confirmed_csam"


def test_lookup_by_entry_finds_the_item(staff_client, open_case, photos):
    open_case(photos[:1])
    item = Item.objects.get()
    entry_id = item.signals.get(signal_type="md5").entry_id
    client, _ = staff_client("analyst")
    response = client.get(f"/staff/survivors/lookup/?entry={entry_id}")
    assert response.status_code == 302 and response["Location"] == f"/staff/survivors/items/{item.pk}/"
    assert "No survivor" in client.get("/staff/survivors/lookup/?entry=987654").content.decode()


def test_roles_without_review_cannot_act(staff_client, held):
    item, _ = held
    for role in ("national_coordinator", "law_enforcement", "administrator"):
        client, _ = staff_client(role)
        assert client.post(f"/staff/survivors/items/{item.pk}/release/").status_code == 403
        assert client.get("/staff/survivors/held/").status_code == 403
    item.refresh_from_db()
    assert item.state == "held"


def test_a_hotline_report_of_a_self_reported_picture_leads_to_a_confirmed_entry(
    shared, open_case, staff_client, make_user, settings
):
    """The whole path: a survivor's hashes; a public report of a page showing the same picture,
    triaged by the hotline, matches them; the analyst finds the survivor's item from the entry the
    hotline item page names, proposes it with that case as evidence; two seniors confirm."""
    from openmnr.hotline import triage
    from openmnr.hotline.intake import ReportInput, receive_public

    settings.KEEP_EVIDENCE = False
    picture = shared / "corpus" / "natural" / "coffee-02.jpg"
    open_case([hashes_of(picture.read_bytes())])
    url = "https://reported.example/page.html"
    case = receive_public(ReportInput(urls=[url]), is_demo=True).urls.get().case
    triage.add_media(case.pk, 0, "https://reported.example/coffee.jpg", picture.read_bytes(), "image/jpeg")
    triage.finish(case.pk)
    media = case.items.get()
    survivor = [m for m in media.match_detail if m["purpose"] == "survivor_reported"]
    assert survivor and not media.auto_assessed  # matched, but not taken for confirmed material

    client, _ = staff_client("analyst")
    hotline_page = client.get(f"/staff/hotline/items/{media.pk}/").content.decode()
    entry = survivor[0]["entry"]
    assert f"entry {entry}" in hotline_page
    item_url = client.get(f"/staff/survivors/lookup/?entry={entry}")["Location"]
    form = {"bank": "", "classification": "baseline", "category": "A", "evidence_kind": "hotline"}
    confirmed = Bank.objects.create(
        name="Confirmed",
        purpose=Purpose.CONFIRMED_CSAM,
        match_roles=["analyst", "senior_analyst", "industry_member"],
    )
    form["bank"], form["evidence_ref"] = confirmed.pk, str(case.pk)
    client.post(item_url + "propose/", form)
    proposed = list(confirmed.entries.all())
    assert len(proposed) == 3
    for entry_row in proposed:
        for senior in (make_user("senior_analyst"), make_user("senior_analyst")):
            banks.confirm_entry(entry_row, by=senior)
    industry = make_user("industry_member")
    (result,) = banks.match([{"sha256": hashlib.sha256(picture.read_bytes()).hexdigest()}], user=industry)
    assert result.action == "confirmed_csam"
