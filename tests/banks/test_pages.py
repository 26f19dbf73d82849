"""The curation pages: banks with sizes, masked entries, propose and confirm, import, export
behind step-up, and the index status."""

import io

import pytest

from helpers import sign_in_client
from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.audit.models import AuditEvent
from openmnr.banks import crypto, services
from openmnr.banks.models import Bank, BankEntry, Purpose

VALUE = "0123456789abcdef" * 4


def _propose_form(value=VALUE):
    return {"signal_type": "pdq", "value": value, "classification": "baseline", "category": "csam"}


@pytest.mark.django_db
def test_banks_are_listed_with_their_sizes_for_the_roles_they_are_open_to(staff_client, make_bank, make_user):
    open_bank = make_bank(Purpose.PARTNER_LIST, name="Open to analysts")
    make_bank(name="Seniors only", match_roles=["senior_analyst"])
    services.import_entries(
        open_bank,
        f"pdq {VALUE}\n".encode(),
        fmt="local",
        by=make_user("senior_analyst"),
        classification="baseline",
    )
    client, _ = staff_client("analyst")
    page = client.get("/staff/banks/")
    assert page.status_code == 200
    assert [(b.name, b.active) for b in page.context["banks"]] == [("Open to analysts", 1)]
    assert "Seniors only" not in page.content.decode()
    hidden = Bank.objects.get(name="Seniors only")
    assert client.get(f"/staff/banks/{hidden.pk}/").status_code == 404


@pytest.mark.django_db
def test_entries_are_paginated_and_values_masked(staff_client, make_bank, make_user):
    bank = make_bank(Purpose.PARTNER_LIST)
    values = [f"{i:064x}" for i in range(1, 53)]
    data = "".join(f"pdq {v}\n" for v in values).encode()
    services.import_entries(
        bank, data, fmt="local", by=make_user("senior_analyst"), classification="baseline"
    )
    client, _ = staff_client("analyst")
    first = client.get(f"/staff/banks/{bank.pk}/").content.decode()
    second = client.get(f"/staff/banks/{bank.pk}/?page=2").content.decode()
    assert "52 entries" in first and "Page 2 of 2" in second
    for value in values:
        assert value not in first and value not in second
    assert f"{values[-1][:8]}…" in first


@pytest.mark.django_db
def test_propose_then_two_other_seniors_confirm_through_the_pages(client, staff_client, make_bank, make_user):
    bank = make_bank()
    analyst_client, analyst = staff_client("analyst")
    response = analyst_client.post(f"/staff/banks/{bank.pk}/propose/", _propose_form())
    assert response.status_code == 302
    entry = BankEntry.objects.get()
    assert entry.status == "pending" and entry.proposed_by == analyst
    assert analyst_client.post(f"/staff/banks/entries/{entry.pk}/confirm/").status_code == 403

    for number in (1, 2):
        senior = make_user("senior_analyst")
        senior_client = sign_in_client(client, senior)
        queue = senior_client.get("/staff/banks/queue/")
        assert f"Confirm entry {entry.pk}" in queue.content.decode()
        assert VALUE not in queue.content.decode()
        senior_client.post(f"/staff/banks/entries/{entry.pk}/confirm/")
        entry.refresh_from_db()
        assert entry.status == ("pending" if number == 1 else "active")
    assert "Nothing waits for confirmation" in senior_client.get("/staff/banks/queue/").content.decode()


@pytest.mark.django_db
def test_a_senior_is_told_they_cannot_confirm_their_own_proposal(staff_client, make_bank):
    bank = make_bank()
    client, _ = staff_client("senior_analyst")
    client.post(f"/staff/banks/{bank.pk}/propose/", _propose_form())
    entry = BankEntry.objects.get()
    assert "your proposal" in client.get("/staff/banks/queue/").content.decode()
    response = client.post(f"/staff/banks/entries/{entry.pk}/confirm/", follow=True)
    assert "nobody confirms their own proposal" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == "pending" and not entry.confirmations.exists()


@pytest.mark.django_db
def test_a_bad_proposal_is_explained(staff_client, make_bank):
    bank = make_bank()
    client, _ = staff_client("analyst")
    response = client.post(f"/staff/banks/{bank.pk}/propose/", _propose_form("12ab"))
    assert response.status_code == 400
    assert "64 hexadecimal digits" in response.content.decode()
    assert not BankEntry.objects.exists()


@pytest.mark.django_db
def test_import_through_the_page_waits_for_confirmation_in_a_confirmed_bank(
    client, staff_client, make_bank, make_user
):
    bank = make_bank()
    senior_client, _ = staff_client("senior_analyst")
    upload = io.BytesIO(f"pdq {VALUE}\nvideo_md5 {'ab' * 16}\n".encode())
    upload.name = "partner.txt"
    response = senior_client.post(
        f"/staff/banks/{bank.pk}/import/", {"file": upload, "format": "local", "classification": "baseline"}
    )
    assert response.status_code == 302
    assert set(bank.entries.values_list("status", flat=True)) == {"pending"}
    assert "your import" in senior_client.get("/staff/banks/queue/").content.decode()
    batch = bank.imports.get()
    for _ in range(2):
        sign_in_client(client, make_user("senior_analyst")).post(f"/staff/banks/imports/{batch.pk}/confirm/")
    assert set(bank.entries.values_list("status", flat=True)) == {"active"}


@pytest.mark.django_db
def test_export_needs_a_fresh_second_factor_and_is_encrypted(staff_client, make_bank, make_user):
    bank = make_bank(Purpose.PARTNER_LIST)
    services.import_entries(
        bank,
        f"pdq {VALUE}\n".encode(),
        fmt="local",
        by=make_user("senior_analyst"),
        classification="baseline",
    )
    client, senior = staff_client("senior_analyst")
    form = {"format": "local", "passphrase": "a long passphrase", "passphrase_again": "a long passphrase"}
    session = client.session
    del session[STEP_UP_KEY]
    session.save()
    stale = client.post(f"/staff/banks/{bank.pk}/export/", form)
    assert stale.status_code == 302 and stale["Location"].startswith("/accounts/step-up/")
    assert not AuditEvent.objects.filter(action="bank.export").exists()

    sign_in_client(client, senior)  # enters a fresh code
    response = client.post(f"/staff/banks/{bank.pk}/export/", form)
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.txt.omnrenc"')
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert VALUE.encode() not in body
    assert crypto.decrypt(body, "a long passphrase").decode() == f"pdq {VALUE}\n"
    assert AuditEvent.objects.filter(action="bank.export", outcome="success").count() == 1


@pytest.mark.django_db
def test_an_administrator_creates_a_bank_and_sets_who_may_match(staff_client, make_user):
    member = make_user("industry_member")
    client, admin = staff_client("administrator")
    response = client.post(
        "/staff/banks/new/",
        {
            "name": "Partner list from hotline X",
            "purpose": "partner_list",
            "enabled": "on",
            "provenance": "Shared under the partner agreement of 2025",
            "match_roles": ["analyst", "senior_analyst"],
            "match_accounts": [member.pk],
        },
    )
    assert response.status_code == 302
    bank = Bank.objects.get()
    assert bank.match_roles == ["analyst", "senior_analyst"] and list(bank.match_accounts.all()) == [member]
    assert AuditEvent.objects.filter(
        action="bank.create", object_id=str(bank.pk), actor=admin.username
    ).exists()
    assert bank.pk in services.allowed_bank_ids(member)


@pytest.mark.django_db
def test_the_index_status_page_shows_each_process(staff_client, make_bank):
    bank = make_bank(Purpose.KNOWN_NON_ILLEGAL)
    client, analyst = staff_client("analyst")
    client.post(f"/staff/banks/{bank.pk}/propose/", _propose_form())
    services.match([{"pdq": VALUE}], user=analyst)
    page = client.get("/staff/banks/index/")
    assert page.status_code == 200
    status = page.context["status"]
    (process,) = status.processes
    assert process.lag == 0 and process.beat.applied_seq == 1 and process.beat.entries == 1
    assert status.head_seq == 1 and status.active == 1
    assert (
        status.snapshot["seq"] == 1
        and "Current snapshot</dt><dd>sequence 1, 1 values" in page.content.decode()
    )
