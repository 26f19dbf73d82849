"""The page's endpoint: a case from hashes only, refused input typed and lossless, screening, and
rate limits that never keep the address."""

import json

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import services as banks
from openmnr.banks.models import Bank, BankEntry, Purpose
from openmnr.survivors.models import Case, Contact, Item, Signal
from survivors.pictures import flat_picture, hashes_of

pytestmark = pytest.mark.django_db


def entries():
    return BankEntry.objects.filter(bank__purpose=Purpose.SURVIVOR_REPORTED)


def match_as(user, item):
    (result,) = banks.match([{k: item[k] for k in ("pdq", "md5", "sha256") if k in item}], user=user)
    return result


def test_a_case_from_hashes_is_matched_at_once_as_self_reported(open_case, photos, make_user):
    answer, code = open_case(photos[:2])
    assert len(code) == 24 and code.count("-") == 4
    assert [item["state"] for item in answer["items"]] == ["active", "active"]
    assert entries().filter(status="active").count() == 6  # PDQ, MD5 and SHA-256 of each
    industry = make_user("industry_member")
    result = match_as(industry, photos[0])
    assert result.action == "survivor_reported"
    # The code is shown once and stored as a digest only.
    assert not Case.objects.filter(code_digest__icontains=code.replace("-", "")).exists()
    assert code.replace("-", "") not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_both_confirmations_are_required_and_nothing_is_kept_without_them(post_json, photos):
    response = post_json("/take-it-down/cases/", {"items": photos[:1], "pictured": True, "under_18": False})
    assert response.status_code == 400
    assert "under 18" in response.json()["detail"]
    assert not Case.objects.exists() and not entries().exists()


@pytest.mark.parametrize(
    "change",
    [
        {"md5": "not-a-hash"},
        {"pdq": "f" * 63},
        {"pdq_quality": 101},
        {"pdq_quality": "high"},
        {"kind": "audio"},
        {"sha256": None},
    ],
)
def test_malformed_items_are_refused_whole_with_a_typed_error(post_json, photos, change):
    bad = {**photos[1], **change}
    response = post_json(
        "/take-it-down/cases/", {"items": [photos[0], bad], "pictured": True, "under_18": True}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input"
    assert "File 2" in response.json()["detail"]
    assert not Case.objects.exists() and not entries().exists()


def test_only_json_is_accepted_so_no_file_can_be_sent(client, photos):
    response = client.post("/take-it-down/cases/", {"file": b"\xff\xd8\xff picture bytes"})
    assert response.status_code == 415
    response = client.post("/take-it-down/cases/", "not json", content_type="application/json")
    assert response.status_code == 400
    assert client.get("/take-it-down/cases/").status_code == 405
    assert not Case.objects.exists()


def test_a_flat_picture_keeps_its_exact_hashes_but_not_its_pdq(open_case, photos):
    flat = hashes_of(flat_picture())
    assert flat["pdq_quality"] < 50
    answer, _ = open_case([flat, photos[0]])
    assert [item["pdq_refused"] for item in answer["items"]] == [True, False]
    item = Item.objects.get(pdq_refused=True)
    assert item.state == "active"
    assert set(item.signals.values_list("signal_type", flat=True)) == {"md5", "sha256"}
    assert not entries().filter(signal_type="pdq", quality__lt=50).exists()


def test_a_degenerate_pdq_is_refused_whatever_quality_it_claims(open_case, photos):
    lying = {**photos[0], "pdq": "0" * 63 + "1", "pdq_quality": 100}
    answer, _ = open_case([lying])
    assert answer["items"][0]["pdq_refused"] is True
    assert not entries().filter(signal_type="pdq").exists()


def test_a_picture_in_a_known_benign_bank_is_held(open_case, photos, make_user):
    analyst = make_user("analyst")
    benign = banks.save_bank(
        Bank(name="Known harmless", purpose=Purpose.KNOWN_NON_ILLEGAL, match_roles=["analyst"]),
        match_accounts=[],
        by=make_user("administrator"),
    )
    banks.propose_entry(
        benign, signal_type="md5", value=photos[0]["md5"], classification="not_illegal", by=analyst
    )
    answer, _ = open_case(photos[:2])
    assert [item["state"] for item in answer["items"]] == ["held", "active"]
    held = Item.objects.get(state="held")
    assert held.hold_reason == "known_benign"
    assert not held.signals.filter(entry_id__isnull=False).exists()
    assert match_as(make_user("industry_member"), photos[0]).action is None


def test_a_picture_that_matches_many_entries_is_held(open_case, photos, settings, make_user):
    settings.SURVIVORS_HOLD_MATCHES = 3
    admin, analyst = make_user("administrator"), make_user("analyst")
    other = banks.save_bank(
        Bank(name="Partner", purpose=Purpose.PARTNER_LIST, match_roles=["analyst"]),
        match_accounts=[],
        by=admin,
    )
    value = int(photos[2]["pdq"], 16)
    for bit in range(3):  # three entries within a few bits of the picture's PDQ
        near = f"{value ^ (0b111 << (bit * 8)):064x}"
        banks.propose_entry(other, signal_type="pdq", value=near, classification="baseline", by=analyst)
    answer, _ = open_case([photos[2], photos[3]])
    assert [item["state"] for item in answer["items"]] == ["held", "active"]
    assert Item.objects.get(state="held").hold_reason == "many_matches"


def test_during_a_flood_new_pictures_are_held(open_case, photos, settings):
    settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR = 2
    first, _ = open_case(photos[:2])
    assert {item["state"] for item in first["items"]} == {"active"}
    second, _ = open_case(photos[2:3])
    assert second["items"][0]["state"] == "held"
    assert Item.objects.get(state="held").hold_reason == "flood"


def test_pictures_are_added_to_an_open_case_with_its_code(post_json, open_case, photos):
    _, code = open_case(photos[:1])
    response = post_json("/take-it-down/items/", {"code": code.lower(), "items": [photos[0], photos[1]]})
    assert response.status_code == 200, response.content
    assert response.json()["duplicates"] == 1
    case = Case.objects.get()
    assert case.items.count() == 2
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = post_json("/take-it-down/items/", {"code": bad, "items": [photos[2]]})
    assert response.status_code == 404
    assert "not right" in response.json()["detail"]
    assert case.items.count() == 2


def test_new_cases_are_limited_per_address_and_day(open_case, post_json, photos, settings):
    settings.SURVIVORS_CASES_PER_DAY = 1
    open_case(photos[:1])
    response = post_json("/take-it-down/cases/", {"items": photos[1:2], "pictured": True, "under_18": True})
    assert response.status_code == 429
    assert "tomorrow" in response.json()["detail"]
    assert Case.objects.count() == 1


def test_pictures_are_limited_per_case_and_per_day(open_case, post_json, photos, settings):
    settings.SURVIVORS_ITEMS_PER_CASE_PER_DAY = 3
    _, code = open_case(photos[:2])
    response = post_json("/take-it-down/items/", {"code": code, "items": photos[2:4]})
    assert response.status_code == 429
    assert "in one day" in response.json()["detail"]
    settings.SURVIVORS_ITEMS_PER_CASE_PER_DAY = 100
    settings.SURVIVORS_ITEMS_PER_CASE = 3
    response = post_json("/take-it-down/items/", {"code": code, "items": photos[2:4]})
    assert response.status_code == 429
    assert "at most 3" in response.json()["detail"]
    assert Item.objects.count() == 2


def test_the_address_is_never_stored(open_case, post_json, photos):
    from openmnr.accounts.models import RateBucket

    _, code = open_case(photos[:1], email="me@example.org")
    post_json("/take-it-down/items/", {"code": code, "items": photos[1:2]})
    events = AuditEvent.objects.filter(action__startswith="survivors.")
    assert events.count() == 2 and set(events.values_list("client_address", flat=True)) == {""}
    assert set(
        AuditEvent.objects.filter(action="bank_entry.self_report").values_list("client_address", flat=True)
    ) == {""}
    assert not any("127.0.0.1" in key for key in RateBucket.objects.values_list("key", flat=True))
    assert "me@example.org" not in Contact.objects.get().sealed


def test_an_email_address_is_checked(post_json, photos):
    body = {"items": photos[:1], "pictured": True, "under_18": True, "email": "not an address"}
    response = post_json("/take-it-down/cases/", body)
    assert response.status_code == 400
    assert not Case.objects.exists() and not Signal.objects.exists()
