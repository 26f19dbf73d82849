"""Exporting to ICCAM through the outbox, against the fake ICCAM: our assessments and actions on
imported items (unless ICCAM's rules say not to), new reports for cases hosted in another member's
country, and partners' actions on them coming back; each effect once, whatever fails."""

import pytest
from django.utils import timezone

from openmnr.exchange import iccam_export, outbox, services, sync
from openmnr.exchange.models import NetworkEvent, NetworkItem, OutboxRow, RowState

pytestmark = pytest.mark.django_db


def imported(fake, url="https://pics.example/page", **kwargs) -> NetworkItem:
    fake.add_report(41, [url], **kwargs)
    assert sync.run_cycle().imported == 1
    return NetworkItem.objects.get()


def test_our_assessment_of_an_imported_item_is_sent_once(fake, assess):
    item = imported(fake)
    assess(item.case_id, "nationally_illegal", age_group="pubescent", category="B")
    report = sync.run_cycle()
    assert report.queued == 1 and report.sent == 1
    (put,) = fake.calls("PUT", "assessment")
    assert put.body["classification"] == 2 and put.body["ageCategorization"] == 4
    assert put.body["genderCategorization"] == 1  # not recorded: "not determined", never a guess
    assert "virtualContentCategorization" not in put.body  # flags not recorded: none sent
    assert fake.contents[item.content_id]["assessments"][-1]["classification"] == 2
    sync.run_cycle()
    sync.run_cycle()
    assert len(fake.calls("PUT", "assessment")) == 1


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("baseline", "Baseline"),
        ("actioned", "already actioned"),
        ("elsewhere", "assigned to DE"),
    ],
)
def test_iccam_rules_say_when_our_assessment_is_not_sent(fake, assess, setup, reason):
    kwargs = {"assessment": {"classification": 1, "ageCategorization": 3}} if setup == "baseline" else {}
    item = imported(fake, **kwargs)
    if setup == "actioned":
        fake.contents[item.content_id]["actions"].append(
            {"actionType": 2, "actionDate": "2026-01-01T00:00:00Z"}
        )
    if setup == "elsewhere":
        fake.contents[item.content_id]["assignedCountryCode"] = "DE"
    assess(item.case_id, "nationally_illegal", age_group="pubescent", category="B")
    report = sync.run_cycle()
    assert report.skipped == 1 and not fake.calls("PUT", "assessment")
    row = OutboxRow.objects.get(kind="assessment")
    assert row.state == RowState.SKIPPED and reason in row.error


def test_not_illegal_sends_the_assessment_and_the_action_with_its_reason(fake, assess):
    item = imported(fake)
    assess(item.case_id, "not_illegal")
    sync.run_cycle()
    assert fake.calls("PUT", "assessment")[0].body["classification"] == 4
    (action,) = fake.calls("POST", "actions")
    assert action.body["actionType"] == 6 and action.body["reasonId"] == 1 and action.body["reasonText"]


def test_a_case_set_aside_as_not_actionable_is_sent_as_unavailable(fake):
    from openmnr.hotline import cases
    from openmnr.hotline.states import State

    item = imported(fake)
    cases.transition(item.case_id, State.NOT_ACTIONABLE, reason="test: the page is gone")
    sync.run_cycle()
    (action,) = fake.calls("POST", "actions")
    assert action.body["actionType"] == 4 and action.body["reasonId"] == 2  # content not found


def test_field_errors_fail_the_row_and_are_shown_to_administrators_only(
    fake, assess, staff_client, administrator
):
    from helpers import sign_in_client

    item = imported(fake)
    fake.fail(
        "PUT",
        "assessment",
        400,
        body=b'{"errors": {"ageCategorization": ["Age is required for National CSAM."]}}',
    )
    assess(item.case_id, "nationally_illegal", age_group="pubescent", category="B")
    report = sync.run_cycle()
    assert report.failed == 1 and not report.error  # a refused message is not a failed cycle
    row = OutboxRow.objects.get(kind="assessment")
    assert row.state == RowState.FAILED
    assert row.field_errors == {"ageCategorization": ["Age is required for National CSAM."]}

    client, _ = staff_client("analyst")
    page = client.get("/staff/exchange/").content.decode()
    assert "Age is required" not in page and "administrators see the details" in page
    assert client.post(f"/staff/exchange/outbox/{row.pk}/retry/").status_code == 403

    sign_in_client(client, administrator)
    page = client.get("/staff/exchange/").content.decode()
    assert "ageCategorization" in page and "Age is required for National CSAM." in page
    response = client.post(f"/staff/exchange/outbox/{row.pk}/retry/")
    assert response.status_code == 302
    assert sync.run_cycle().sent == 1
    row.refresh_from_db()
    assert row.state == RowState.SENT and len(fake.calls("PUT", "assessment")) == 2

    from openmnr.audit.models import AuditEvent

    assert (
        AuditEvent.objects.filter(action="exchange.outbox.retry", actor=administrator.username).count() == 1
    )


def test_our_actions_are_sent_once_even_when_an_answer_is_lost(fake):
    item = imported(fake)
    assert services.record_action(item.case_id, "notice_to_host") == 1
    assert services.record_action(item.case_id, "notice_to_host") == 0  # the same effect: no new row
    fake.fail("POST", r"/actions$", drop_after_handling=True)
    report = sync.run_cycle()
    assert report.error and report.retry_later == 1  # the answer was lost: pending, cycle failed
    assert len(fake.contents[item.content_id]["actions"]) == 1  # ... but ICCAM has it
    report = sync.run_cycle()
    assert not report.error and report.sent == 1
    assert OutboxRow.objects.get(kind="action").result == {"action": "notice_to_host", "already": True}
    assert len(fake.contents[item.content_id]["actions"]) == 1 and len(fake.calls("POST", "actions")) == 1


def test_a_503_leaves_the_row_for_the_next_cycle(fake):
    item = imported(fake)
    services.record_action(item.case_id, "removed")
    fake.fail("POST", r"/actions$", 503)
    assert "503" in sync.run_cycle().error
    row = OutboxRow.objects.get(kind="action")
    assert row.state == RowState.PENDING and row.attempts == 1
    sync.run_cycle()
    row.refresh_from_db()
    assert row.state == RowState.SENT and [
        a["actionType"] for a in fake.contents[item.content_id]["actions"]
    ] == [3]


def test_a_move_is_new_hosting_and_a_new_country(fake):
    item = imported(fake)
    services.record_action(item.case_id, "moved", hosting={"country": "NL", "ip": "192.0.2.9"})
    sync.run_cycle()
    content = fake.contents[item.content_id]
    assert content["url"]["hostingCountryCode"] == "NL" and content["assignedCountryCode"] == "NL"
    assert not fake.calls("POST", "actions")


def test_a_case_hosted_in_another_member_country_is_created_in_iccam(fake, public_case, assess, monkeypatch):
    monkeypatch.setattr(iccam_export, "ASSIGN_DELAY", timezone.timedelta(0))
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    hosting = {"country": "DE", "ip": "192.0.2.10", "isp": "Other Hosting GmbH"}
    assert services.forward(case_id, hosting=hosting) == "iccam"
    assert services.forward(case_id, hosting=hosting) == "iccam"  # asked twice: one row
    from openmnr.audit.models import AuditEvent

    forwards = AuditEvent.objects.filter(action="exchange.forward", object_id=str(case_id))
    assert forwards.count() == 2 and forwards.first().detail == {
        "channel": "iccam",
        "hosting_country": "DE",
        "to": "ICCAM",
    }

    sync.run_cycle()
    (post,) = fake.calls("POST", r"/reports$")
    (url,) = post.body["urls"]
    assert url["urlString"] == "https://host.example/page" and url["isSourceUrl"]
    assert (url["hostingCountryCode"], url["hostingIpAddress"], url["hostingIsp"]) == (
        "DE",
        "192.0.2.10",
        "Other Hosting GmbH",
    )
    assert url["assessment"]["classification"] == 1 and url["assessment"]["ageCategorization"] == 3
    exported = NetworkItem.objects.get(case_id=case_id)
    assert exported.origin == "exported" and exported.hosting_country == "DE"
    assert NetworkEvent.objects.get(case_id=case_id, action="forwarded")
    # The next cycle hands the item to the hotline of its hosting country.
    sync.run_cycle()
    assert fake.contents[exported.content_id]["assignedCountryCode"] == "DE"
    assert len(fake.calls("POST", r"/reports$")) == 1

    # The German hotline removes it: our timeline shows it, once, as removed through the network.
    fake.contents[exported.content_id]["actions"].append(
        {"actionType": 3, "analystName": "de-analyst", "actionDate": "2026-03-01T10:00:00Z"}
    )
    assert sync.run_cycle().followed == 1
    assert sync.run_cycle().followed == 0
    removed = services.removed_through_network(case_id)
    assert removed is not None and removed.isoformat().startswith("2026-03-01T10:00")
    exported.refresh_from_db()
    assert exported.finished_at is not None


def test_a_new_report_whose_answer_is_lost_is_never_sent_twice(fake, public_case, assess, administrator):
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    services.forward(case_id, hosting={"country": "DE"})
    fake.fail("POST", r"/reports$", drop_after_handling=True)
    sync.run_cycle()
    row = OutboxRow.objects.get(kind="report")
    assert row.state == RowState.UNCERTAIN and "check ICCAM" in row.error
    sync.run_cycle()
    assert len(fake.calls("POST", r"/reports$")) == 1
    outbox.dismiss(row.pk, administrator)
    assert OutboxRow.objects.get(pk=row.pk).state == RowState.DISMISSED


def test_a_report_iccam_refuses_keeps_its_field_errors(fake, public_case, assess):
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    services.forward(case_id, hosting={"country": "DE", "ip": "192.0.2.10"})
    row = OutboxRow.objects.get(kind="report")
    row.payload["body"]["urls"][0].pop("hostingCountryCode")  # as if our trace had no country
    row.save()
    sync.run_cycle()
    row.refresh_from_db()
    assert row.state == RowState.FAILED and "urls[0].hostingCountryCode" in row.field_errors


def test_nothing_goes_to_iccam_for_a_case_hosted_at_home_or_without_iccam(
    fake, public_case, assess, settings
):
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    assert services.forward(case_id, hosting={"country": "PT"}) is None
    settings.ICCAM_URL = ""
    assert services.forward(case_id, hosting={"country": "DE"}) is None
    assert not OutboxRow.objects.exists()
