"""The staff page for partners' URL lists: what senior analysts and administrators see and may do,
an administrator's add / edit / licence / remove (each audited, with a fresh second factor), "fetch
now" against a partner on 127.0.0.1, and bad input answered on the form with nothing written."""

import re
import time

import pytest

from blocking.partner_server import PARTNER_PEM
from helpers import sign_in_client
from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.audit.models import AuditEvent
from openmnr.blocking import services
from openmnr.blocking.models import ListEntry, PartnerList
from openmnr.blocking.services import partners

pytestmark = pytest.mark.django_db

PAGE = "/staff/blocking/partners/"


def _new(server_url="http://127.0.0.1:9/api/v1/urllist/export", **changes):
    data = {
        "name": "hotline-b",
        "kind": "openmnr",
        "source_url": server_url,
        "public_key_pem": PARTNER_PEM,
        "api_key_variable": "OPENMNR_PARTNER_KEY_HOTLINE_B",
        "min_wait_seconds": "0",
        "redistribute": "on",
    }
    return {**data, **changes}


def _run_queued() -> list[str]:
    """Run the queued partner fetches as the worker would; their results, in order."""
    from django_tasks_db.models import DBTaskResult

    from openmnr.blocking import tasks

    results = []
    for row in DBTaskResult.objects.filter(task_path__endswith="fetch_partner_list").order_by("pk"):
        results.append(tasks.fetch_partner_list.call(*row.args_kwargs["args"]))
        row.delete()
    return results


def _row(page: str, partner) -> str:
    return re.search(rf'<tr id="partner-{partner.pk}">(.*?)</tr>', page, re.S).group(1)


def test_an_administrator_adds_a_partner_list_and_sees_it_listed(client, make_user, monkeypatch):
    monkeypatch.setenv("OPENMNR_PARTNER_KEY_HOTLINE_B", "omnr_secret_at_the_partner")
    sign_in_client(client, make_user("administrator"))
    response = client.post(PAGE, _new())
    assert (response.status_code, response["Location"]) == (302, PAGE)
    partner = PartnerList.objects.get(name="hotline-b")
    page = client.get(PAGE).content.decode()
    row = _row(page, partner)
    assert "may be redistributed" in row and "never" in row and "OPENMNR_PARTNER_KEY_HOTLINE_B" in row
    assert "(set here)" in row and "omnr_secret_at_the_partner" not in page
    assert re.search(r'<td class="entries">0</td>', row)
    event = AuditEvent.objects.get(action="blocking.partner_register")
    assert event.detail == {"kind": "openmnr", "redistribute": True}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"public_key_pem": "not a key"}, "PEM"),
        ({"source_url": "ftp://partner.example/"}, "http(s) address"),
        ({"api_key_variable": "OPENMNR_SECRET_KEY"}, "OPENMNR_PARTNER_KEY_"),
        ({"min_wait_seconds": "-1"}, "greater than or equal to 0"),
        ({"kind": "carrier-pigeon"}, "valid choice"),
    ],
)
def test_bad_input_is_answered_on_the_form_and_nothing_is_written(client, make_user, changes, says):
    sign_in_client(client, make_user("administrator"))
    response = client.post(PAGE, _new(**changes))
    assert response.status_code == 400 and says in response.content.decode()
    assert not PartnerList.objects.exists()


def test_a_senior_analyst_sees_and_fetches_but_changes_nothing(client, make_user, partner_server):
    partner = partners.register(
        "hotline-b",
        "openmnr",
        redistribute=False,
        source_url=partner_server.url,
        public_key_pem=PARTNER_PEM,
        by=make_user("administrator"),
    )
    partner_server.publish(5, ["bad.example/gallery/", "worse.example/1.jpg"])
    sign_in_client(client, make_user("senior_analyst"))
    page = client.get(PAGE).content.decode()
    assert (
        "Fetch now" in page and "Add a partner" not in page and f"/partners/{partner.pk}/remove/" not in page
    )

    response = client.post(f"{PAGE}{partner.pk}/fetch/")
    assert (response.status_code, response["Location"]) == (302, PAGE)
    assert partner_server.requests == 0, "the request only queues the fetch"
    page = client.get(PAGE).content.decode()
    assert "Fetch of hotline-b queued" in page and "is queued for the worker" in _row(page, partner)
    client.post(f"{PAGE}{partner.pk}/fetch/")
    assert "A fetch of hotline-b is already queued." in client.get(PAGE).content.decode()
    assert _run_queued() == ["imported: 2 entries, 2 added, 0 removed"], "queued once"
    row = _row(client.get(PAGE).content.decode(), partner)
    assert "version 5" in row and '<td class="entries">2</td>' in row and "used here only" in row
    assert "the last fetch" in row and "was imported" in row and "queued" not in row
    import_event = AuditEvent.objects.get(action="blocking.partner_import", outcome="success")
    queued = AuditEvent.objects.filter(action="blocking.partner_fetch", outcome="success")
    assert [e.detail for e in queued] == [{"queued": True}]
    assert import_event.actor == queued.get().actor != "system", (
        "the import is audited under the person's name"
    )

    partner_server.refuse(429, {"Retry-After": "600"})
    client.post(f"{PAGE}{partner.pk}/fetch/")
    assert _run_queued() == ["failed: the partner answered 429 (too soon) and asks us to wait 600 seconds"]
    row = _row(client.get(PAGE).content.decode(), partner)
    assert "the partner answered 429 (too soon) and asks us to wait 600" in row
    client.post(f"{PAGE}{partner.pk}/fetch/")
    assert "the partner asks us to wait: try again in" in client.get(PAGE).content.decode()
    assert _run_queued() == [], "a refused fetch is not queued"
    assert "the partner asks us to wait until" in row and "1 failure in a row" in row
    assert '<td class="entries">2</td>' in row, "a failed fetch keeps the last good entries"

    assert client.post(PAGE, _new(name="mine")).status_code == 403
    assert client.get(f"{PAGE}{partner.pk}/").status_code == 403
    assert (
        client.post(f"{PAGE}{partner.pk}/", {"redistribute": "on", "min_wait_seconds": 0}).status_code == 403
    )
    assert client.post(f"{PAGE}{partner.pk}/remove/", {"confirm": "yes"}).status_code == 403
    partner.refresh_from_db()
    assert (partner.active, partner.redistribute, PartnerList.objects.count()) == (True, False, 1)


def test_the_licence_is_an_administrators_change_audited_and_applied_at_the_next_publication(
    client, make_user
):
    admin = make_user("administrator")
    partner = partners.register("vendor", "file", redistribute=False, by=admin)
    partners.import_file(partner, "https://bad.example/1\n", by=admin)
    services.publish()
    assert not ListEntry.objects.exists()

    sign_in_client(client, admin)
    form = client.get(f"{PAGE}{partner.pk}/").content.decode()
    assert 'name="redistribute"' in form and "checked" not in form.split('name="redistribute"')[1][:40]
    response = client.post(f"{PAGE}{partner.pk}/", {"redistribute": "on", "min_wait_seconds": "0"})
    assert (response.status_code, response["Location"]) == (302, PAGE)
    event = AuditEvent.objects.get(action="blocking.partner_update")
    assert event.detail == {"changed": ["redistribute"], "redistribute": True}
    services.publish()
    assert list(ListEntry.objects.values_list("expression", "partner_id")) == [("bad.example/1", partner.pk)]

    client.post(f"{PAGE}{partner.pk}/", {"redistribute": "on", "min_wait_seconds": "0"})
    assert "Nothing changed." in client.get(PAGE).content.decode()
    assert AuditEvent.objects.filter(action="blocking.partner_update").count() == 1


def test_removing_a_list_takes_its_entries_off_and_keeps_its_history(client, make_user):
    admin = make_user("administrator")
    partner = partners.register("vendor", "file", redistribute=True, by=admin)
    partners.import_file(partner, "https://bad.example/1\nhttps://bad.example/2\n", by=admin)
    services.publish()
    sign_in_client(client, admin)

    client.post(f"{PAGE}{partner.pk}/remove/")  # the box was not ticked
    assert PartnerList.objects.get().active
    response = client.post(f"{PAGE}{partner.pk}/remove/", {"confirm": "yes"})
    assert (response.status_code, response["Location"]) == (302, PAGE)
    page = client.get(PAGE).content.decode()
    assert "vendor removed: 2 entries leave the list at the next publication." in page
    assert f'id="partner-{partner.pk}"' not in page and 'id="removed-partner-lists"' in page
    assert AuditEvent.objects.get(action="blocking.partner_remove").detail == {
        "entries": 2,
        "redistribute": True,
    }
    version = services.publish()
    assert version.removed == 2 and not ListEntry.objects.filter(removed_version__isnull=True).exists()
    assert ListEntry.objects.filter(partner=partner).count() == 2, "the history still names the partner"
    assert client.get(f"{PAGE}{partner.pk}/").status_code == 404
    assert client.post(f"{PAGE}{partner.pk}/fetch/").status_code == 404


def test_changes_need_a_fresh_second_factor(client, make_user):
    sign_in_client(client, make_user("administrator"))
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    response = client.post(PAGE, _new())
    assert response["Location"].startswith("/accounts/step-up/")
    assert not PartnerList.objects.exists()


def test_others_cannot_open_the_page(client, make_user):
    for role in ("analyst", "national_coordinator", "partner_hotline"):
        sign_in_client(client, make_user(role))
        assert client.get(PAGE).status_code == 403, role


def test_the_page_is_translated(client, make_user):
    sign_in_client(client, make_user("administrator"))
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Listas de URLs dos parceiros" in page and "Adicionar a lista de um parceiro" in page


def _upload(client, partner, content: bytes, name="list.txt", **headers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(f"{PAGE}{partner.pk}/upload/", {"file": SimpleUploadedFile(name, content)}, **headers)


def test_an_administrator_uploads_a_partners_plain_list_and_a_bad_file_changes_nothing(client, make_user):
    admin = make_user("administrator")
    partner = partners.register("vendor", "file", redistribute=True, by=admin)
    sign_in_client(client, admin)
    assert f'action="/staff/blocking/partners/{partner.pk}/upload/"' in client.get(PAGE).content.decode()

    response = _upload(client, partner, b"# vendor, 2026-12-03\nhttps://bad.example/1\n" + b"ab" * 32 + b"\n")
    assert (response.status_code, response["Location"]) == (302, PAGE)
    page = client.get(PAGE).content.decode()
    assert "vendor imported: 2 entries, 2 added, 0 removed." in page
    event = AuditEvent.objects.get(action="blocking.partner_import", outcome="success")
    assert event.detail == {"from": "upload", "version": 1, "count": 2, "added": 2, "removed": 0}

    _upload(
        client,
        partner,
        b"https://good.example/\nftp://bad.example/\nok.example/\nhttp://\nftp://x/\nftp://y/\n",
    )
    page = client.get(PAGE).content.decode()
    assert "the file is refused: 4 bad line(s), nothing imported: line 2 is neither" in page
    assert "line 4 is neither" in page and "line 5 is neither" in page and "Line 6:" in page, (
        "every bad line is named"
    )
    assert "Line 4:" not in page, "a line named in the refusal is not named twice"
    assert set(partner.entries.values_list("expression", flat=True)) == {"bad.example/1", ""}, (
        "nothing half stored"
    )

    _upload(client, partner, b"\xff\xfe not text")
    assert "the file is not UTF-8 text" in client.get(PAGE).content.decode()
    _upload(client, partner, b'{"payload": {}}')
    assert "not a signed export" in client.get(PAGE).content.decode()
    refused = AuditEvent.objects.filter(action="blocking.partner_import", outcome="failure")
    assert [e.detail["reason"] for e in refused] == ["BadLines", "InvalidInput", "InvalidInput"]
    assert partner.entries.count() == 2


def test_an_upload_is_size_capped_and_an_administrators_change(client, make_user, monkeypatch):
    from openmnr.blocking.services import partner_upload

    admin = make_user("administrator")
    partner = partners.register("vendor", "file", redistribute=True, by=admin)
    monkeypatch.setattr(partner_upload, "MAX_UPLOAD_BYTES", 64)
    sign_in_client(client, admin)
    _upload(client, partner, b"https://bad.example/1\n" * 4)
    assert "the file is larger than" in client.get(PAGE).content.decode()
    assert not partner.entries.exists()

    sign_in_client(client, make_user("senior_analyst"))
    assert _upload(client, partner, b"https://bad.example/1\n").status_code == 403
    sign_in_client(client, admin)
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    assert _upload(client, partner, b"https://bad.example/1\n")["Location"].startswith("/accounts/step-up/")
    assert not partner.entries.exists()


def test_a_partner_openmnrs_signed_export_is_uploaded_when_its_endpoint_cannot_be_reached(client, make_user):
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from blocking.partner_server import PARTNER_KEY
    from openmnr.core.urllist import listformat

    admin = make_user("administrator")
    partner = partners.register(
        "hotline-c",
        "openmnr",
        redistribute=False,
        source_url="http://127.0.0.1:9/api/v1/urllist/export",
        public_key_pem=PARTNER_PEM,
        by=admin,
    )
    sign_in_client(client, admin)
    payload = listformat.export_payload("partner-urls", 3, ["bad.example/gallery/"], generated_at="t")
    forged = json.dumps(listformat.sign(payload, Ed25519PrivateKey.generate())).encode()
    _upload(client, partner, forged, "export.json")
    assert "the file is refused: the partner&#x27;s export is refused" in client.get(PAGE).content.decode()
    assert not partner.entries.exists()
    _upload(client, partner, b"https://bad.example/1\n")
    assert "uploaded as its signed export" in client.get(PAGE).content.decode()
    _upload(client, partner, json.dumps(listformat.sign(payload, PARTNER_KEY)).encode(), "export.json")
    assert "hotline-c imported: 1 entries, 1 added, 0 removed." in client.get(PAGE).content.decode()
    assert list(partner.entries.values_list("expression", flat=True)) == ["bad.example/gallery/"]


def test_the_upload_and_the_queued_fetch_are_translated(client, make_user):
    admin = make_user("administrator")
    partner = partners.register("vendor", "file", redistribute=True, by=admin)
    sign_in_client(client, admin)
    _upload(client, partner, b"https://bad.example/1\n", HTTP_ACCEPT_LANGUAGE="pt-br")
    page = client.get(PAGE, HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert (
        "Arquivo da lista (uma URL ou SHA-256 por linha)" in page and "vendor importada: 1 entradas" in page
    )
