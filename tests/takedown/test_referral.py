"""Law-enforcement referral: only a senior analyst, with a fresh second factor, sends a case's one
package; it is signed with the hotline's Ed25519 key and checks out with `openmnr referral verify`;
signals and evidence travel only encrypted to the recipient's key; the law-enforcement accounts of
the recipient list and download it, others cannot; every step is audited."""

import hashlib
import io
import json
import time
import zipfile
from contextlib import redirect_stdout

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from helpers import sign_in_client
from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY
from openmnr.audit.models import AuditEvent
from openmnr.cli import main as openmnr
from openmnr.core.evidence import generate_key
from openmnr.hotline.models import Case
from openmnr.takedown import services
from openmnr.takedown.models import DirectoryEntry, Referral

pytestmark = pytest.mark.django_db


def _pem(path, key, private: bool):
    if private:
        data = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        data = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def police_key(tmp_path):
    """The law-enforcement unit's X25519 key pair: (private key file, public PEM text)."""
    key = X25519PrivateKey.generate()
    private = _pem(tmp_path / "police.pem", key, private=True)
    return private, _pem(tmp_path / "police.pub.pem", key, private=False).read_text()


@pytest.fixture
def referable(settings, tmp_path, site, photos, reported_and_assessed, tools, clock, make_user, police_key):
    """A case whose photo triage kept as encrypted evidence, traced; the hotline's signing key;
    and a police entry with the unit's key and one member. Returns (case, police entry, member)."""
    settings.KEEP_EVIDENCE, settings.EVIDENCE_KEY = True, generate_key()
    settings.REFERRAL_INCLUDE_EVIDENCE = True
    _pem(tmp_path / "keys" / "signing.pem", Ed25519PrivateKey.generate(), private=True)
    site.serve("/photo.jpg", photos["photo"])
    case = reported_and_assessed(site.page("/gallery", "/photo.jpg"))
    services.tick(clock.now, tools=tools())
    officer = make_user("law_enforcement")
    police = DirectoryEntry.objects.create(
        kind="law_enforcement",
        name="Cybercrime unit",
        emails="referrals@police.test",
        recipient_key=police_key[1],
    )
    police.members.add(officer)
    return case, police, officer


def _send(client, case, police):
    return client.post(f"/staff/takedown/cases/{case.pk}/referral/", {"recipient": police.pk})


def test_only_a_senior_analyst_with_a_fresh_second_factor_sends(referable, staff_client, make_user):
    case, police, _officer = referable
    client, _ = staff_client("analyst")
    assert _send(client, case, police).status_code == 403

    senior = make_user("senior_analyst")
    sign_in_client(client, senior)
    session = client.session
    session[STEP_UP_KEY] = time.time() - 3600
    session.save()
    response = _send(client, case, police)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    assert not Referral.objects.exists()

    sign_in_client(client, senior)  # a fresh second factor
    response = _send(client, case, police)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert (referral.recipient, referral.created_by, referral.encrypted) == (police, senior, True)
    assert referral.evidence_items == 1 and referral.signals == 3  # PDQ, MD5 and SHA-256 of the photo
    event = AuditEvent.objects.get(action="takedown.referral.send")
    assert event.actor == senior.username and event.detail["case"] == case.pk
    assert Case.objects.get(pk=case.pk).state == "actioned"
    page = client.get(f"/staff/takedown/cases/{case.pk}/").content.decode()
    assert "referral sent to Cybercrime unit" in page

    _send(client, case, police)  # one package per case
    assert Referral.objects.count() == 1


def test_the_package_verifies_and_its_evidence_decrypts(
    referable, staff_client, police_key, photos, tmp_path, mailoutbox
):
    case, police, officer = referable
    client, _ = staff_client("senior_analyst")
    _send(client, case, police)
    referral = Referral.objects.get()
    [message] = [m for m in mailoutbox if m.to == ["referrals@police.test"]]
    assert message.subject.startswith(f"Referral ready: case {case.pk}")
    assert hashlib.sha256(photos["photo"]).hexdigest() not in message.body

    sign_in_client(client, officer)
    listing = client.get("/staff/takedown/referrals/").content.decode()
    assert f"/staff/takedown/referrals/{referral.pk}/download/" in listing
    package = tmp_path / "package.zip"
    package.write_bytes(client.get(f"/staff/takedown/referrals/{referral.pk}/download/").content)
    public_key = tmp_path / "hotline.pub.pem"
    public_key.write_bytes(client.get("/staff/takedown/referrals/hotline-public-key.pem").content)

    out = io.StringIO()
    with redirect_stdout(out):
        status = openmnr(["referral", "verify", str(package), "--public-key", str(public_key)])
    assert status == 0 and "OK:" in out.getvalue()
    with redirect_stdout(out):
        status = openmnr(
            [
                "referral",
                "verify",
                str(package),
                "--public-key",
                str(public_key),
                "--decryption-key",
                str(police_key[0]),
            ]
        )
    assert status == 0 and "content checked" in out.getvalue()

    with zipfile.ZipFile(package) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        stored = {name: archive.read(name) for name in archive.namelist()}
    assert manifest["case"]["id"] == case.pk and manifest["urls"][0] == case.url
    assert manifest["hosting_trace"]["hostname"] == "127.0.0.1"
    assert {"reported_at", "assessed_at", "referred_at"} <= set(manifest["timestamps"])
    assert all(item["encrypted"] for item in manifest["items"])
    digest = hashlib.sha256(photos["photo"]).hexdigest()
    assert all(digest.encode() not in data for name, data in stored.items() if name != "manifest.json")

    from openmnr.core.referral import load_decryption_key, load_verify_key, verify

    checked = verify(package, load_verify_key(public_key), load_decryption_key(police_key[0]))
    assert photos["photo"] in checked.contents.values()
    signals = json.loads(checked.contents["evidence/signals.json"])
    assert {"signal_type": "sha256", "value": digest, "item": 0} in signals


def test_a_package_altered_after_signing_fails_verification(referable, staff_client, tmp_path):
    case, police, _officer = referable
    client, _ = staff_client("senior_analyst")
    _send(client, case, police)
    package = tmp_path / "package.zip"
    package.write_bytes(
        client.get(f"/staff/takedown/referrals/{Referral.objects.get().pk}/download/").content
    )
    public_key = tmp_path / "hotline.pub.pem"
    public_key.write_bytes(client.get("/staff/takedown/referrals/hotline-public-key.pem").content)

    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(altered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "manifest.json":
                data = data.replace(b'"urls": [', b'"urls": [\n    "https://elsewhere.example/",')
            target.writestr(name, data)
    assert openmnr(["referral", "verify", str(altered), "--public-key", str(public_key)]) == 1


def test_only_the_recipient_unit_lists_and_downloads(referable, staff_client, make_user):
    case, police, officer = referable
    client, _ = staff_client("senior_analyst")
    _send(client, case, police)
    referral = Referral.objects.get()

    sign_in_client(client, make_user("law_enforcement"))  # another officer, not of this unit
    assert (
        f"/referrals/{referral.pk}/download/" not in client.get("/staff/takedown/referrals/").content.decode()
    )
    assert client.get(f"/staff/takedown/referrals/{referral.pk}/download/").status_code == 404
    sign_in_client(client, make_user("analyst"))
    assert client.get("/staff/takedown/referrals/").status_code == 403
    assert client.get(f"/staff/takedown/referrals/{referral.pk}/download/").status_code == 404
    # The case page offers the analyst no link that would answer 404, and says why.
    case_page = client.get(f"/staff/takedown/cases/{referral.takedown_id}/").content.decode()
    assert f"/referrals/{referral.pk}/download/" not in case_page and "is for its recipient" in case_page

    sign_in_client(client, officer)
    response = client.get(f"/staff/takedown/referrals/{referral.pk}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert hashlib.sha256(response.content).hexdigest() == referral.sha256
    assert AuditEvent.objects.filter(action="takedown.referral.download", actor=officer.username).count() == 1
    api = client.get("/api/v1/takedown/referrals").json()
    assert [row["case"] for row in api] == [case.pk]


def test_without_the_recipients_key_nothing_sensitive_leaves(referable, staff_client, tmp_path):
    case, police, _officer = referable
    police.recipient_key = ""
    police.save()
    client, _ = staff_client("senior_analyst")
    _send(client, case, police)
    referral = Referral.objects.get()
    assert (referral.encrypted, referral.evidence_items, referral.signals) == (False, 0, 0)
    package = tmp_path / "package.zip"
    package.write_bytes(client.get(f"/staff/takedown/referrals/{referral.pk}/download/").content)
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "manifest.sig"]


def test_demo_mode_makes_a_signing_key_on_first_use(settings, tmp_path):
    from openmnr.core.referral import KeyFileError
    from openmnr.takedown import keys

    settings.REFERRAL_SIGNING_KEY = tmp_path / "var" / "keys" / "signing.pem"
    settings.DEBUG = False
    with pytest.raises(KeyFileError, match="OPENMNR_REFERRAL_SIGNING_KEY"):
        keys.signing_key()
    settings.DEBUG = True
    first = keys.public_key_pem()
    assert keys.public_key_pem() == first
    assert keys.signing_key_path().stat().st_mode & 0o777 == 0o600
