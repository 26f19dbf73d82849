"""Partners' URL lists: a partner OpenMNR's signed export fetched over HTTP (a second server on
127.0.0.1), or a plain file; published with our entries only where the licence allows."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from blocking.partner_server import PARTNER_PEM
from openmnr.audit.models import AuditEvent
from openmnr.blocking import services
from openmnr.blocking.errors import NotAllowed, PartnerRefused
from openmnr.blocking.models import ListEntry, Source
from openmnr.blocking.services import partners
from openmnr.core.urllist import listformat
from openmnr.core.urllist.expressions import expression_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(make_user):
    return make_user("administrator")


def _live():
    return {e.expression: e for e in ListEntry.objects.filter(removed_version__isnull=True)}


def test_a_redistributable_export_joins_our_list_with_its_source_and_leaves_when_dropped(
    partner_server, admin, monkeypatch
):
    monkeypatch.setenv("OPENMNR_PARTNER_KEY_TEST", "omnr_ours_at_the_partner")
    partner = services.partners.register(
        "hotline-b",
        "openmnr",
        redistribute=True,
        source_url=partner_server.url,
        public_key_pem=PARTNER_PEM,
        api_key_variable="OPENMNR_PARTNER_KEY_TEST",
        by=admin,
    )
    partner_server.publish(1, ["bad.example/gallery/", "worse.example/a/1.jpg"])
    assert partners.fetch(partner, by=admin)["count"] == 2
    assert partner_server.authorizations == ["Bearer omnr_ours_at_the_partner"]
    version = services.publish()
    live = _live()
    assert set(live) == {"bad.example/gallery/", "worse.example/a/1.jpg"}
    assert {(e.source, e.partner_id) for e in live.values()} == {(Source.PARTNER, partner.id)}
    assert expression_hash("bad.example/gallery/").hex() in services.full_hashes_at(version.version)

    partner_server.publish(2, ["worse.example/a/1.jpg"])  # the partner saw the gallery taken down
    assert partners.fetch(partner, by=admin) == {"count": 1, "added": 0, "removed": 1}
    version = services.publish()
    assert (version.removed, set(_live())) == (1, {"worse.example/a/1.jpg"})
    detail = AuditEvent.objects.filter(action="blocking.partner_import").order_by("seq").last().detail
    assert detail["removed"] == 1 and "worse.example" not in json.dumps(detail)


def test_without_the_licence_entries_are_used_only_here(partner_server, admin):
    partner = services.partners.register(
        "hotline-c",
        "openmnr",
        redistribute=False,
        source_url=partner_server.url,
        public_key_pem=PARTNER_PEM,
        by=admin,
    )
    partner_server.publish(1, ["bad.example/gallery/"])
    partners.fetch(partner, by=admin)
    services.publish()
    assert _live() == {}, "nothing of a partner without the licence reaches licensees"
    assert partners.known_locally("https://www.bad.example/gallery/7.jpg") == ["hotline-c"]
    assert partners.known_locally("https://good.example/") == []


def test_a_tampered_or_foreign_or_older_export_is_refused_and_audited(partner_server, admin):
    partner = services.partners.register(
        "hotline-d",
        "openmnr",
        redistribute=True,
        source_url=partner_server.url,
        public_key_pem=PARTNER_PEM,
        by=admin,
    )
    partner_server.publish(3, ["bad.example/"])
    partners.fetch(partner, by=admin)

    partner_server.publish(4, ["bad.example/", "innocent.example/"])
    partner_server.document["payload"]["entries"].remove("bad.example/")  # altered on the way
    with pytest.raises(PartnerRefused, match="signed"):
        partners.fetch(partner, by=admin)
    partner_server.publish(4, ["innocent.example/"], key=Ed25519PrivateKey.generate())
    with pytest.raises(PartnerRefused, match="signed"):
        partners.fetch(partner, by=admin)
    partner_server.publish(2, [])  # genuine, but older than the one imported: a replay
    with pytest.raises(PartnerRefused, match="older"):
        partners.fetch(partner, by=admin)

    refusals = AuditEvent.objects.filter(action="blocking.partner_import", outcome="failure")
    assert [e.detail["reason"] for e in refusals] == ["PartnerRefused"] * 3
    assert list(partner.entries.values_list("expression", flat=True)) == ["bad.example/"], "nothing kept"
    partner.refresh_from_db()
    assert partner.version == 3


def test_a_plain_file_of_urls_and_hashes(admin):
    partner = services.partners.register("vendor-file", "file", redistribute=True, by=admin)
    digest = "ab" * 32
    counts = partners.import_file(
        partner,
        f"# partner list, 2026-12-02\nhttp://BAD.example/gallery/./1.jpg\n\n{digest.upper()}\nworse.example/\n",
        by=admin,
    )
    assert counts["count"] == 3
    services.publish()
    assert set(_live()) == {"bad.example/gallery/1.jpg", "worse.example/"}, "a bare hash is not published"
    with pytest.raises(services.partners.InvalidInput, match="line 2"):
        partners.import_file(partner, "worse.example/\nftp://bad.example/\n", by=admin)
    assert partner.entries.count() == 3, "a refused file changes nothing"


def test_only_administrators_manage_partner_lists(make_user, partner_server):
    with pytest.raises(NotAllowed):
        services.partners.register(
            "x",
            "openmnr",
            redistribute=True,
            source_url=partner_server.url,
            public_key_pem=PARTNER_PEM,
            by=make_user("analyst"),
        )
    assert AuditEvent.objects.filter(action="blocking.partner_register", outcome="denied").count() == 1


def test_a_partner_hotline_downloads_our_cases_as_a_signed_export_and_a_licensee_cannot(
    client, make_user, admin, settings, tmp_path
):
    from openmnr.accounts import apikeys
    from openmnr.hotline import services as hotline

    settings.DEBUG, settings.VAR_DIR = True, tmp_path  # the list's signing key is made on first use
    hotline.file_demo_report("https://files.example/album/1.jpg", "test")
    file_partner = services.partners.register("vendor", "file", redistribute=True, by=admin)
    partners.import_file(file_partner, "https://theirs.example/x\n", by=admin)
    services.publish()
    _, partner_key = apikeys.create_api_key(
        owner=make_user("partner_hotline"), name="hotline-b", scopes=["blocking.download_partner_export"]
    )
    _, licensee_key = apikeys.create_api_key(
        owner=make_user("blocking_licensee"), name="resolver", scopes=["blocking.download_list"]
    )
    response = client.get("/api/v1/urllist/export", HTTP_AUTHORIZATION=f"Bearer {partner_key}")
    pem = client.get("/api/v1/urllist/public-key", HTTP_AUTHORIZATION=f"Bearer {licensee_key}").content
    version, entries = listformat.read_export(response.json(), serialization.load_pem_public_key(pem))
    assert (version, entries) == (1, ["files.example/album/1.jpg"]), "ours only, never a partner's"
    assert (
        client.get("/api/v1/urllist/export", HTTP_AUTHORIZATION=f"Bearer {licensee_key}").status_code == 403
    )


def test_the_administrators_command_registers_imports_and_lists(tmp_path):
    from django.core.management import CommandError, call_command

    listing = tmp_path / "list.txt"
    listing.write_text("http://bad.example/1\n" + "cd" * 32 + "\n")
    out = tmp_path / "out.txt"
    with out.open("w") as stream:
        call_command("urllist_partner", "add", "vendor", "--kind", "file", stdout=stream)
        call_command("urllist_partner", "import-file", "vendor", str(listing), stdout=stream)
        call_command("urllist_partner", "list", stdout=stream)
    text = out.read_text()
    assert "registered vendor (redistribute: False)" in text and "vendor: 2 entries, +2 -0" in text
    assert "vendor\tfile\tversion 1\t2 entries\tredistribute: False" in text
    with pytest.raises(CommandError, match="no partner list"):
        call_command("urllist_partner", "fetch", "nobody")
    with pytest.raises(CommandError, match="PEM"):
        call_command(
            "urllist_partner",
            "add",
            "b",
            "--kind",
            "openmnr",
            "--url",
            "http://127.0.0.1:9/x",
            "--public-key",
            str(listing),
        )


def test_capability_16_counts_the_partner_lists_in_use_at_the_end_of_the_period(admin):
    from datetime import timedelta

    from django.utils import timezone

    from openmnr.assessment.indicators import compute

    today = timezone.localdate()
    month = (today - timedelta(days=30), today)
    assert compute("blocking.partner_lists", *month) is None, "no list published: no data"
    kept = services.partners.register("vendor", "file", redistribute=False, by=admin)
    gone = services.partners.register("old-vendor", "file", redistribute=True, by=admin)
    services.partners.import_file(kept, "https://bad.example/1\n", by=admin)
    services.publish()
    assert compute("blocking.partner_lists", *month).value == 2
    services.partners.remove(gone, by=admin)
    assert compute("blocking.partner_lists", *month).value == 1
    last_year = (today - timedelta(days=400), today - timedelta(days=370))
    assert compute("blocking.partner_lists", *last_year).value == 0, "registered after that period"


def test_our_export_is_paced_per_key_with_429_and_retry_after(client, make_user, settings, tmp_path):
    """A partner key asking for the export again before the minimum wait gets 429 and nothing else,
    on its own clock (a licensee's snapshot does not count against it), and the refusal is no
    download in the audit log."""
    from datetime import timedelta

    from django.db.models import F

    from openmnr.accounts import apikeys
    from openmnr.blocking.models import LicenseeDownload
    from openmnr.hotline import services as hotline

    settings.DEBUG, settings.VAR_DIR = True, tmp_path
    hotline.file_demo_report("https://files.example/album/1.jpg", "test")
    services.publish()
    _, key = apikeys.create_api_key(
        owner=make_user("partner_hotline"), name="hotline-b", scopes=["blocking.download_partner_export"]
    )
    _, other = apikeys.create_api_key(
        owner=make_user("partner_hotline"), name="hotline-c", scopes=["blocking.download_partner_export"]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/urllist/export", **auth).status_code == 200
    again = client.get("/api/v1/urllist/export", **auth)
    assert again.status_code == 429 and again.json()["error"] == "too_soon"
    assert 0 < int(again["Retry-After"]) <= settings.BLOCKING_MIN_WAIT_SECONDS
    assert "files.example" not in again.content.decode()
    other_auth = {"HTTP_AUTHORIZATION": f"Bearer {other}"}
    assert client.get("/api/v1/urllist/export", **other_auth).status_code == 200, "per key"
    downloads = AuditEvent.objects.filter(action="blocking.list_download", detail__kind="export")
    assert downloads.count() == 2, "a refused request is no download"
    LicenseeDownload.objects.update(
        last_export_at=F("last_export_at") - timedelta(seconds=settings.BLOCKING_MIN_WAIT_SECONDS)
    )
    assert client.get("/api/v1/urllist/export", **auth).status_code == 200
