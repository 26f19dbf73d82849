"""Importing from ICCAM, against the fake ICCAM over real mutual TLS: each item becomes a case (or
joins one), carries what the partner said, is triaged and acknowledged; re-runs import nothing
twice; a bad item is an error for that item, a lost ICCAM an error for the cycle."""

import pytest

from openmnr.exchange import sync
from openmnr.exchange.models import ItemError, NetworkItem, SyncState

BASELINE = {
    "classification": 1,
    "ageCategorization": 3,
    "genderCategorization": 2,
    "virtualContentCategorization": 0,
    "userGeneratedContentCategorization": 1,
    "childModelingCategorization": 0,
    "assessingAnalystName": "partner analyst",
}

pytestmark = pytest.mark.django_db


def cases():
    from openmnr.hotline.models import Case

    return Case.objects.order_by("pk")


def test_each_item_becomes_a_case_carrying_what_the_partner_said(fake):
    ids = fake.add_report(
        41,
        ["https://pics.example/gallery/1", "https://pics.example/img/1.jpg"],
        hotline="DE-ECO",
        memo="found through a forum",
        site_type=9,
        commerciality=2,
        payment_methods=(13,),
        assessment=BASELINE,
    )
    report = sync.run_cycle()
    assert not report.error and report.imported == 2 and report.acknowledged == 2

    assert [c.url for c in cases()] == ["https://pics.example/gallery/1", "https://pics.example/img/1.jpg"]
    page = NetworkItem.objects.get(content_id=ids[0])
    assert (page.report_id, page.reporting_hotline, page.memo) == (41, "DE-ECO", "found through a forum")
    assert (page.site_type, page.commerciality, page.payment_methods) == (
        "social_network",
        "commercial",
        ["bitcoin"],
    )
    assert (page.partner_assessment, page.partner_age_group, page.partner_gender) == (
        "baseline",
        "prepubescent",
        "female",
    )
    assert page.partner_flags == ["self_generated"] and page.assessed_by_partner
    # Filed as a partner's report, and acknowledged with our reference, which names the case.
    submission = page.case.reports.get().submission
    assert submission.get_source_display() == "Partner hotline"
    assert "ICCAM report 41" in submission.partner_reference and "DE-ECO" in submission.description
    assert fake.contents[ids[0]]["hotlineReference"] == f"OpenMNR-{page.case_id}-{ids[0]}"
    # Triage was enqueued for each new case, as for any report.
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path="openmnr.hotline.tasks.triage_case").count() == 2


def test_a_rerun_imports_nothing_twice(fake):
    fake.add_report(41, ["https://pics.example/a", "https://pics.example/b"])
    sync.run_cycle()
    before = cases().count()
    fake.requests.clear()
    report = sync.run_cycle()
    assert report.imported == 0 and cases().count() == before == 2
    assert not fake.calls("PUT", "hotline-reference")


def test_a_lost_acknowledgement_is_sent_again_without_a_second_import(fake):
    (content,) = fake.add_report(41, ["https://pics.example/a"])
    fake.fail("PUT", "hotline-reference", 503)
    first = sync.run_cycle()
    assert first.error and first.imported == 1  # imported whole; only the acknowledgement is missing
    item = NetworkItem.objects.get(content_id=content)
    assert item.acknowledged_at is None
    second = sync.run_cycle()
    assert not second.error and second.imported == 0 and second.already == 1
    item.refresh_from_db()
    assert item.acknowledged_at is not None and cases().count() == 1


def test_an_item_joins_the_open_case_of_the_same_url(fake, public_case):
    case_id = public_case("https://Pics.Example/gallery/1")
    fake.add_report(41, ["https://pics.example/gallery/1#top"])
    report = sync.run_cycle()
    assert report.imported == 1 and report.joined == 1
    assert cases().count() == 1
    assert NetworkItem.objects.get().case_id == case_id
    assert cases().get().reporter_count == 2


def test_a_queue_bigger_than_max_results_is_read_page_by_page(fake):
    for report_id in range(50, 54):  # 4 reports of 2 items: 8 items, pages of 3
        fake.add_report(
            report_id, [f"https://site{report_id}.example/1", f"https://site{report_id}.example/2"]
        )
    report = sync.run_cycle()
    assert report.imported == 8 and cases().count() == 8
    assert 3 <= len(fake.calls("GET", "no-reference")) <= 4
    assert all(c["hotlineReference"] for c in fake.contents.values())


def test_bad_items_are_errors_for_that_item_only(fake):
    good = fake.add_report(60, ["https://good.example/"])[0]
    unknown_enum = fake.add_report(
        61, ["https://enum.example/"], assessment={**BASELINE, "classification": 3}
    )[0]
    unknown_site = fake.add_report(62, ["https://site.example/"], site_type=99)[0]
    malformed = fake.add_report(63, ["https://malformed.example/"])[0]
    fake.fail("GET", f"Content/{malformed}$", 200, body=b'{"contentId": 631, "url": ', times=-1)
    no_content = fake.add_report(64, ["https://empty.example/"])[0]
    fake.reports[64]["reportContents"] = []
    not_a_url = fake.add_report(65, ["javascript:alert(1)"])[0]

    report = sync.run_cycle()
    assert not report.error  # the cycle itself is fine
    assert report.imported == 1 and NetworkItem.objects.get().content_id == good
    errors = {e.content_id: e.error for e in ItemError.objects.all()}
    assert set(errors) == {unknown_enum, unknown_site, malformed, no_content, not_a_url}
    assert "classification 3 is not in vocabulary" in errors[unknown_enum]
    assert "sourceUrlSiteType 99" in errors[unknown_site]
    assert "not JSON" in errors[malformed]
    assert "has no content" in errors[no_content]
    assert "URL cannot be checked" in errors[not_a_url]
    # Nothing half: no case and no acknowledgement for any of them; they stay in ICCAM's queue.
    assert cases().count() == 1
    assert [c["contentId"] for c in fake.contents.values() if c["hotlineReference"]] == [good]

    sync.run_cycle()
    assert ItemError.objects.get(content_id=unknown_enum).times == 2 and cases().count() == 1
    # Once ICCAM sends something we know, the item imports and its error is gone.
    fake.contents[unknown_enum]["assessments"] = [BASELINE]
    sync.run_cycle()
    assert NetworkItem.objects.filter(content_id=unknown_enum).exists()
    assert not ItemError.objects.filter(content_id=unknown_enum).exists()


def test_a_503_fails_the_cycle_and_nothing_is_imported_half(fake):
    first, second = fake.add_report(70, ["https://a.example/", "https://b.example/"])
    fake.fail("GET", f"Content/{second}$", 503)
    report = sync.run_cycle()
    assert "HTTP 503" in report.error
    assert list(NetworkItem.objects.values_list("content_id", flat=True)) == [first]
    assert cases().count() == 1 and not ItemError.objects.exists()
    state = SyncState.objects.get()
    assert state.failures_in_a_row == 1 and "503" in state.last_error
    report = sync.run_cycle()
    assert not report.error and report.imported == 1 and cases().count() == 2
    assert SyncState.objects.get().failures_in_a_row == 0


def test_a_token_that_ends_early_costs_one_login(fake):
    fake.add_report(41, ["https://a.example/"])
    fake.fail("GET", r"Reports/41$", 401)
    report = sync.run_cycle()
    assert not report.error and report.imported == 1
    assert len(fake.calls("POST", r"/Authentication$")) == 2


def test_a_slow_server_fails_the_cycle_then_the_next_one_works(fake, settings):
    settings.ICCAM_TIMEOUT_SECONDS = 1
    fake.add_report(41, ["https://a.example/"])
    fake.fail("GET", "no-reference", delay=2.5)
    assert "timed out" in sync.run_cycle().error
    assert sync.run_cycle().imported == 1


def test_a_server_certificate_that_does_not_verify_fails_the_cycle(fake, pki, settings):
    settings.ICCAM_CA_CERT = pki.rogue_ca_cert
    fake.add_report(41, ["https://a.example/"])
    report = sync.run_cycle()
    assert "TLS" in report.error and "certificate verify failed" in report.error
    assert not fake.requests and cases().count() == 0


def test_three_failed_cycles_alert_the_administrators_once(fake, administrator, mailoutbox):
    from openmnr.audit.models import AuditEvent

    fake.fail("POST", r"/Authentication$", 503, times=-1)
    for _ in range(2):
        sync.run_cycle()
    assert not mailoutbox
    sync.run_cycle()
    assert [m.to for m in mailoutbox] == [["admin@hotline.test"]]
    assert "last 3 ICCAM cycles failed" in mailoutbox[0].body and "HTTP 503" in mailoutbox[0].body
    sync.run_cycle()
    assert len(mailoutbox) == 1  # once, not every minute
    assert AuditEvent.objects.filter(action="exchange.iccam.alert").count() == 1
    fake.faults.clear()
    assert not sync.run_cycle().error
    state = SyncState.objects.get()
    assert state.failures_in_a_row == 0 and state.alerted_at is None


def test_one_cycle_at_a_time(fake):
    fake.add_report(41, ["https://a.example/"])
    assert sync._take_lease() is not None  # another worker's cycle is running
    report = sync.run_cycle()
    assert not report.ran and not fake.requests
    assert report.lines() == ["another ICCAM cycle is running: nothing done"]


def test_triage_runs_and_a_partner_baseline_that_matches_nothing_waits_in_the_queue(
    fake, site, shared, staff_client
):
    from openmnr.hotline import triage
    from openmnr.hotline.states import State

    image = sorted((shared / "corpus" / "natural").glob("*.jpg"))[0].read_bytes()
    url = site.page_with_image("/gallery", "/photo.jpg", image)
    fake.add_report(41, [url], assessment=BASELINE)
    sync.run_cycle()
    case = cases().get()
    assert triage.run(case.pk).startswith("queued")
    case.refresh_from_db()
    assert case.state == State.TRIAGED and not case.assessment  # the analyst assesses it

    client, _ = staff_client("analyst")
    page = client.get(f"/staff/hotline/cases/{case.pk}/").content.decode()
    assert "assessed by partner" in page and "DE-ECO" in page
    assert "Baseline (illegal internationally)" in page and "Prepubescent" in page


def test_the_clock_runs_the_cycle_only_when_iccam_is_configured(fake, settings):
    fake.add_report(41, ["https://a.example/"])
    settings.ICCAM_URL = ""
    sync.clock_job()
    assert not fake.requests
    settings.ICCAM_URL = fake.url
    sync.clock_job()
    assert NetworkItem.objects.count() == 1


def test_the_cursor_moves_on_only_past_what_was_read(fake, monkeypatch):
    from openmnr.exchange import iccam_import

    monkeypatch.setattr(iccam_import, "MAX_PAGES", 1)
    for report_id in range(80, 84):
        fake.add_report(report_id, [f"https://site{report_id}.example/"])
    first = sync.run_cycle()
    assert first.imported == 3  # one page of 3, and the page limit
    assert SyncState.objects.get().cursor is None  # something was left unread: the cursor stays
    sync.run_cycle()
    assert NetworkItem.objects.count() == 4
    assert SyncState.objects.get().cursor is not None  # read to the end: it moves on
