"""Following a case with its code: the status page counts, withdrawal takes the pictures out of
matching at once and forgets the contact, staff close cases, and shared pictures stay matched."""

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import services as banks
from openmnr.banks.models import BankEntry
from openmnr.survivors.models import Case, CaseTransition, Contact, Item, Signal

pytestmark = pytest.mark.django_db


def matched(user, item) -> bool:
    (result,) = banks.match([{"md5": item["md5"]}], user=user)
    return result.action == "survivor_reported"


def test_the_status_page_reads_a_case_by_its_code(client, open_case, photos):
    _, code = open_case(photos[:2])
    page = client.get("/take-it-down/status/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    response = client.post("/take-it-down/status/", {"code": code.replace("-", " ").lower()})
    assert response.status_code == 200
    assert response.context["status"].active == 2
    assert response.context["status"].matches == 0
    assert "no-store" in response["Cache-Control"]
    response = client.post("/take-it-down/status/", {"code": "0" * 20})
    assert response.status_code == 404
    assert "no case with this code" in response.content.decode()


def test_withdrawing_takes_the_pictures_out_of_matching_at_once(client, open_case, photos, make_user):
    industry = make_user("industry_member")
    _, code = open_case(photos[:2], email="someone@example.org")
    assert matched(industry, photos[0])
    confirm = client.post("/take-it-down/withdraw/", {"code": code})
    assert confirm.status_code == 200 and "Withdraw your case?" in confirm.content.decode()
    assert Case.objects.get().state == "open"  # nothing happens before the confirmation
    done = client.post("/take-it-down/withdraw/", {"code": code, "confirm": "yes"})
    assert done.status_code == 200 and "withdrawn" in done.content.decode()
    assert not matched(industry, photos[0]) and not matched(industry, photos[1])
    case = Case.objects.get()
    assert case.state == "withdrawn"
    assert set(case.items.values_list("state", flat=True)) == {"withdrawn"}
    assert set(Signal.objects.values_list("value", flat=True)) == {""}
    assert not Contact.objects.exists()
    entries = BankEntry.objects.filter(bank__purpose="survivor_reported")
    assert entries.count() == 6 and set(entries.values_list("status", flat=True)) == {"disabled"}
    event = AuditEvent.objects.get(action="survivors.case_withdraw")
    assert event.actor == "public" and event.client_address == ""
    assert event.detail == {"from": "open", "to": "withdrawn", "items": 2, "contact_deleted": True}
    assert CaseTransition.objects.get().actor == "the person"
    # The status still reads, and nothing more can be done with the case.
    status = client.post("/take-it-down/status/", {"code": code})
    assert status.context["status"].state == "withdrawn"
    again = client.post("/take-it-down/withdraw/", {"code": code, "confirm": "yes"})
    assert again.status_code == 409


def test_a_picture_another_open_case_sent_stays_matched(client, open_case, photos, make_user):
    industry = make_user("industry_member")
    _, first = open_case(photos[:2])
    _, second = open_case(photos[1:3])
    client.post("/take-it-down/withdraw/", {"code": first, "confirm": "yes"})
    assert not matched(industry, photos[0])
    assert matched(industry, photos[1])  # the second case still needs it
    # Sent again in a new case, a withdrawn picture is matched again.
    open_case(photos[:1])
    assert matched(industry, photos[0])


def test_nothing_can_be_added_to_a_withdrawn_case(client, post_json, open_case, photos):
    _, code = open_case(photos[:1])
    client.post("/take-it-down/withdraw/", {"code": code, "confirm": "yes"})
    response = post_json("/take-it-down/items/", {"code": code, "items": photos[1:2]})
    assert response.status_code == 409
    assert client.post("/take-it-down/add/", {"code": code}).status_code == 409
    assert Item.objects.count() == 1


def test_staff_close_a_case_with_a_reason(staff_client, open_case, photos, make_user):
    industry = make_user("industry_member")
    _, code = open_case(photos[:1])
    case = Case.objects.get()
    item = case.items.get()
    analyst, _ = staff_client("analyst")
    assert analyst.post(f"/staff/survivors/cases/{case.pk}/close/", {"reason": "abuse"}).status_code == 403
    senior, user = staff_client("senior_analyst")
    senior.post(f"/staff/survivors/cases/{case.pk}/close/", {"reason": ""})
    assert Case.objects.get().state == "open"
    response = senior.post(
        f"/staff/survivors/cases/{case.pk}/close/", {"reason": "ordinary pictures, not of a child"}
    )
    assert response.status_code == 302 and response["Location"] == f"/staff/survivors/items/{item.pk}/"
    assert Case.objects.get().state == "closed"
    assert not matched(industry, photos[0])
    event = AuditEvent.objects.get(action="survivors.case_close")
    assert event.actor == user.username
    assert CaseTransition.objects.get().reason == "ordinary pictures, not of a child"


def test_too_many_lookups_from_one_address_are_refused(client, open_case, photos, settings):
    settings.SURVIVORS_LOOKUPS_PER_HOUR = 2
    _, code = open_case(photos[:1])
    for _ in range(2):
        assert client.post("/take-it-down/status/", {"code": code}).status_code == 200
    response = client.post("/take-it-down/status/", {"code": code})
    assert response.status_code == 429
    assert "last hour" in response.content.decode()
