"""Signed results between countries: the export of a signed-off cycle (signed with this installation's
key, no staff names, evidence only when chosen), the peer keys an administrator sets, and the import
that keeps only what verifies under the key of the country named."""

import io
import json
import time
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile

from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.assessment import keys, services
from openmnr.assessment.models import ImportedResults, PeerCountry
from openmnr.audit.models import AuditEvent
from openmnr.core.mnr import results as signed

from .conftest import package

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"


@pytest.fixture(autouse=True)
def _own_key(settings, tmp_path):
    """This installation's signing key, made for the test."""
    settings.ASSESSMENT_SIGNING_KEY = str(tmp_path / "keys" / "signing.pem")
    settings.DEBUG = True  # made on first use, as in the demo


@pytest.fixture
def signed_cycle(cycle, coordinator, sign_off):
    services.record_capability(
        coordinator, cycle, 12, current_level=1, target_level=3, criteria_met=["12.1.a", "12.1.b"],
        confidence="high", stakeholder="Examplestan Safer Internet Centre",
    )  # fmt: skip
    services.add_evidence(
        coordinator, cycle, 12, kind="document", title="Hotline decree", criterion="12.1.a",
        upload=SimpleUploadedFile("decree.pdf", b"%PDF-1.4\n% decree\n"),
    )  # fmt: skip
    services.add_evidence(
        coordinator, cycle, 12, kind="note", title="Mandate", note="Internal remark on the mandate."
    )
    return sign_off(cycle)


def _members(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_signed_off_cycle_exports_signed_results_without_staff_or_evidence(
    client, as_user, coordinator, second_coordinator, signed_cycle
):
    as_user(coordinator)
    page = client.get(f"{BASE}{signed_cycle.pk}/results/").content.decode()
    assert "Include the evidence" in page and keys.public_key_pem().splitlines()[1] in page
    response = client.post(f"{BASE}{signed_cycle.pk}/results/", {})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "mnr-results-Examplestan-2025-12-31.zip" in response["Content-Disposition"]
    members = _members(response.content)
    assert set(members) == {"results.json", "results.sig"}
    # It verifies under this installation's public key, the one its page shows peers.
    verified = signed.read_results(
        response.content, lambda c: keys.parse_public_key(keys.public_key_pem()), max_document_bytes=10**6
    )
    data = verified.results
    assert data["signed_off"]["content_sha256"] == signed_cycle.content_sha256
    hotline = next(c for c in data["capabilities"] if c["number"] == 12)
    assert (hotline["current_level"], hotline["target_level"], hotline["confidence"]) == (1, 3, "high")
    assert "evidence" not in hotline and hotline["evidence_items"] == 2
    text = members["results.json"].decode()
    for private in (
        coordinator.username,
        second_coordinator.username,
        "Safer Internet Centre",
        "Internal remark",
    ):
        assert private not in text
    event = AuditEvent.objects.get(action="assessment.export_results")
    assert event.detail == {"evidence": False, "documents": 0}


def test_evidence_goes_in_only_when_chosen(client, as_user, coordinator, signed_cycle):
    as_user(coordinator)
    response = client.post(f"{BASE}{signed_cycle.pk}/results/", {"include_evidence": "on"})
    members = _members(response.content)
    (document,) = [name for name in members if name.startswith("documents/")]
    assert members[document] == b"%PDF-1.4\n% decree\n" and document.endswith(".pdf")
    hotline = next(c for c in json.loads(members["results.json"])["capabilities"] if c["number"] == 12)
    assert [e["title"] for e in hotline["evidence"]] == ["Hotline decree", "Mandate"]


def test_only_a_signed_off_cycle_is_shared_and_only_after_step_up(
    client, as_user, coordinator, cycle, make_user
):
    as_user(coordinator)
    assert client.post(f"{BASE}{cycle.pk}/results/", {}).status_code == 409
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    response = client.get(f"{BASE}{cycle.pk}/results/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    as_user(make_user("analyst"))
    assert client.post(f"{BASE}{cycle.pk}/results/", {}).status_code == 403
    assert not AuditEvent.objects.filter(action="assessment.export_results").exists()


def test_outside_demo_mode_a_missing_key_is_said_not_made(
    client, as_user, coordinator, signed_cycle, settings
):
    settings.DEBUG = False
    as_user(coordinator)
    response = client.post(f"{BASE}{signed_cycle.pk}/results/", {})
    assert response.status_code == 409 and "OPENMNR_ASSESSMENT_SIGNING_KEY" in response.content.decode()


def test_an_administrator_sets_peer_keys_and_a_coordinator_cannot(client, as_user, coordinator, make_user):
    key = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    as_user(coordinator)
    assert client.post(f"{BASE}peers/", {"country": "Neighbourland", "public_key": pem}).status_code == 403
    admin = make_user("administrator")
    as_user(admin)
    response = client.post(f"{BASE}peers/", {"country": "Neighbourland", "public_key": "not a key"})
    assert response.status_code == 400 and "not usable" in response.content.decode()
    rsa = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEAs8+Hc3tLiWBcTq7Z+3m7IU2BhYr2ETsG1BXAL3yE5VA=\n-----END PUBLIC KEY-----"
    assert client.post(f"{BASE}peers/", {"country": "Neighbourland", "public_key": rsa}).status_code == 400
    assert not PeerCountry.objects.exists()
    assert client.post(f"{BASE}peers/", {"country": "Neighbourland", "public_key": pem}).status_code == 302
    peer = PeerCountry.objects.get()
    assert peer.key_sha256 == keys.key_fingerprint(key.public_key())
    assert peer.key_sha256 in client.get(f"{BASE}peers/").content.decode()
    event = AuditEvent.objects.get(action="assessment.peer_key_set")
    assert event.actor == admin.username and event.detail["key_sha256"] == peer.key_sha256
    assert client.post(f"{BASE}peers/{peer.pk}/remove/").status_code == 302
    assert (
        not PeerCountry.objects.exists()
        and AuditEvent.objects.filter(action="assessment.peer_key_removed").exists()
    )


def _upload(client, body: bytes, name="results.zip"):
    return client.post(f"{BASE}comparison/import/", {"package": SimpleUploadedFile(name, body)})


def test_import_keeps_only_what_verifies_under_the_countrys_key(client, as_user, coordinator, peer):
    levels = {3: (2, 3), 12: (2, 3), 16: (1, 2)}
    stranger = Ed25519PrivateKey.generate()
    as_user(coordinator)
    # No key set for the country: refused, nothing kept.
    response = _upload(client, package("Neighbourland", levels, stranger))
    assert response.status_code == 400 and "no key is configured for" in response.content.decode()
    key = peer("Neighbourland")
    # Signed by someone else in Neighbourland's name: refused.
    response = _upload(client, package("Neighbourland", levels, stranger))
    assert (
        response.status_code == 400 and "not the key configured for this country" in response.content.decode()
    )
    # Changed after signing: refused.
    body = package("Neighbourland", levels, key)
    members = _members(body)
    members["results.json"] = members["results.json"].replace(b'"current_level": 1', b'"current_level": 4')
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    response = _upload(client, tampered.getvalue())
    assert response.status_code == 400 and "changed after it was signed" in response.content.decode()
    assert _upload(client, b"not a zip").status_code == 400
    assert not ImportedResults.objects.exists()
    assert not AuditEvent.objects.filter(action="assessment.import_results").exists()
    # The genuine package is kept, once.
    assert _upload(client, body).status_code == 302
    row = ImportedResults.objects.get()
    assert (row.country, str(row.period_end), row.key_sha256) == (
        "Neighbourland", "2025-12-31", keys.key_fingerprint(key.public_key())
    )  # fmt: skip
    response = _upload(client, package("Neighbourland", levels, key))  # the same signed cycle again
    assert response.status_code == 400 and "imported already" in response.content.decode()
    assert ImportedResults.objects.count() == 1
    event = AuditEvent.objects.get(action="assessment.import_results")
    assert event.actor == coordinator.username and event.detail["country"] == "Neighbourland"


def test_documents_in_imported_results_are_checked_like_uploads(client, as_user, coordinator, peer):
    key = peer("Neighbourland")
    from openmnr.assessment.demo import results_package

    body = results_package("Neighbourland", {12: (1, 2)}, key, 2026)
    members = _members(body)
    data = json.loads(members["results.json"])
    data.pop("format"), data.pop("signer"), data.pop("documents")
    good = signed.write_results(
        data, key, [signed.ResultDocument(b"%PDF-1.4 decree", "pdf", 12, "Decree", "application/pdf")]
    )
    bad = signed.write_results(
        data | {"signed_off": {**data["signed_off"], "content_sha256": "c" * 64}},
        key,
        [signed.ResultDocument(b"MZ\x90\x00\x03\x00\x00\x00", "pdf", 12, "Tool", "application/pdf")],
    )
    as_user(coordinator)
    response = _upload(client, bad)
    assert response.status_code == 400 and "not one of the allowed types" in response.content.decode()
    assert _upload(client, good).status_code == 302
    row = ImportedResults.objects.get()
    (doc,) = row.documents
    response = client.get(f"{BASE}comparison/{row.pk}/documents/{doc['sha256']}/")
    assert response.content == b"%PDF-1.4 decree" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="Decree.pdf"'
    assert client.get(f"{BASE}comparison/{row.pk}/documents/{'0' * 64}/").status_code == 404
