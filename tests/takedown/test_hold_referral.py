"""A case held for the police: its signed referral package goes first, to every law-enforcement
entry, told by e-mail (local SMTP server) or signed webhook (local server), while no takedown and no
notice exist; the unit's members download it; a kept hold whose review date came is reminded once
per date; a mail server that is down delays the message, it is not lost."""

import io
import json
import zipfile
from contextlib import redirect_stdout
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.utils import timezone

from helpers import sign_in_client
from openmnr.accounts import apikeys
from openmnr.audit.models import AuditEvent
from openmnr.cli import main as openmnr
from openmnr.hotline import cases, holds
from openmnr.takedown import hold_referrals, keys
from openmnr.takedown.models import DirectoryEntry, Notice, Referral, TakedownCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(assessed_case, tmp_path, settings):
    """A baseline case held for the police by an analyst's reason, and the hotline's signing key."""
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "keys" / "signing.pem"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    case = assessed_case("https://example.org/held/page")
    with transaction.atomic():
        holds.hold(cases.locked(case.pk), reason="operation under way")
    case.refresh_from_db()
    assert case.state == "held"
    return case


def test_the_referral_of_a_held_case_goes_first_by_email(held, smtp, make_user, client, tmp_path):
    officer = make_user("law_enforcement")
    police = DirectoryEntry.objects.create(
        kind="law_enforcement", name="Cybercrime unit", emails="lea@police.test"
    )
    police.members.add(officer)

    assert hold_referrals.clock_job() == {"referred": 1, "reminded": 0}
    referral = Referral.objects.get()
    assert (referral.case_id, referral.held, referral.recipient, referral.takedown) == (
        held.pk,
        True,
        police,
        None,
    )
    assert referral.told_at is not None
    [(to, message)] = smtp.messages
    assert to == ["lea@police.test"] and f"case {held.pk}" in message["Subject"]
    assert "operation under way" in message.get_content()
    # Nothing went to the host: no takedown, no notice.
    assert not TakedownCase.objects.exists() and not Notice.objects.exists()
    assert AuditEvent.objects.filter(action="takedown.referral.hold").count() == 1
    assert AuditEvent.objects.filter(action="takedown.referral.told").count() == 1

    assert hold_referrals.clock_job() == {"referred": 0, "reminded": 0}  # once per case and unit
    _key, text = apikeys.create_api_key(owner=officer, name="unit", scopes=["takedown.receive_referrals"])
    [listed] = client.get("/api/v1/takedown/referrals", headers={"Authorization": f"Bearer {text}"}).json()
    assert (listed["case"], listed["held"]) == (held.pk, True)
    assert len(smtp.messages) == 1

    # The unit's member finds it from the held case's page, lists and downloads it; the package
    # verifies with the hotline's key.
    sign_in_client(client, officer)
    assert "/staff/takedown/referrals/" in client.get(f"/staff/hotline/held/{held.pk}/").content.decode()
    listing = client.get("/staff/takedown/referrals/").content.decode()
    assert (
        "held for the police" in listing and f"/staff/takedown/referrals/{referral.pk}/download/" in listing
    )
    download = client.get(f"/staff/takedown/referrals/{referral.pk}/download/")
    assert download.status_code == 200
    package = tmp_path / "package.zip"
    package.write_bytes(b"".join(download.streaming_content) if download.streaming else download.content)
    manifest = json.loads(zipfile.ZipFile(package).read("manifest.json"))
    assert manifest["case"]["assessment"] == "baseline" and manifest["case"]["held_for_police_at"]
    assert "held_for_police_at" in manifest["timestamps"] and "first_notice_at" not in manifest["timestamps"]
    public = tmp_path / "hotline.pub.pem"
    public.write_bytes(keys.public_key_pem())
    with redirect_stdout(io.StringIO()):
        assert openmnr(["referral", "verify", str(package), "--public-key", str(public)]) == 0


def test_a_webhook_entry_is_told_with_a_signed_post_and_a_failure_is_retried(held, webhook, settings):
    DirectoryEntry.objects.create(
        kind="law_enforcement", name="Unit with a webhook", api_url=webhook.url("/in")
    )
    webhook.post_status = 503
    assert hold_referrals.refer_held() == 1
    referral = Referral.objects.get()
    assert referral.told_at is None
    assert AuditEvent.objects.filter(action="takedown.referral.not_told").count() == 1

    webhook.post_status = 200
    assert hold_referrals.refer_held() == 0  # no second package, but the message goes out now
    referral.refresh_from_db()
    assert referral.told_at is not None
    headers, body = webhook.posts[-1]
    assert "x-openmnr-signature" in headers
    payload = json.loads(body)
    assert payload["type"] == "hold_referral" and payload["case_id"] == held.pk
    hold_referrals.refer_held()
    assert len(webhook.posts) == 2  # told once it went through, never again


def test_a_due_review_is_reminded_once_per_date(held, smtp, make_user):
    DirectoryEntry.objects.create(kind="law_enforcement", name="Cybercrime unit", emails="lea@police.test")
    hold_referrals.refer_held()
    smtp.messages.clear()
    officer = make_user("law_enforcement")
    review = timezone.now() + timedelta(days=3)
    holds.keep(held.pk, officer, reason="still watching", review_at=review)

    assert hold_referrals.remind_due_holds() == 0  # not due yet
    holds.due(review + timedelta(minutes=1))
    assert hold_referrals.remind_due_holds() == 1
    [(to, message)] = smtp.messages
    assert to == ["lea@police.test"] and message["Subject"].startswith(f"Review due: case {held.pk}")
    assert "still watching" in message.get_content()
    event = AuditEvent.objects.get(action="hotline.hold.reminder_sent")
    assert event.detail["review_at"] == review.isoformat()
    assert hold_referrals.remind_due_holds() == 0 and len(smtp.messages) == 1  # once per date

    later = review + timedelta(days=7)
    holds.keep(held.pk, officer, reason="one more week", review_at=later)
    holds.due(later + timedelta(minutes=1))
    assert hold_referrals.remind_due_holds() == 1 and len(smtp.messages) == 2  # a new date: a new reminder


def test_without_a_law_enforcement_entry_nothing_is_written(held):
    assert hold_referrals.refer_held() == 0
    assert not Referral.objects.exists()


def test_a_portuguese_entry_is_told_and_reminded_in_portuguese(held, smtp, make_user):
    DirectoryEntry.objects.create(
        kind="law_enforcement", name="Unidade de cibercrime", emails="uc@policia.test", language="pt"
    )
    assert hold_referrals.refer_held() == 1
    [(_to, message)] = smtp.messages
    assert message["Subject"].startswith(f"Retido para a polícia: participação pronta, caso {held.pk}")
    body = message.get_content()
    assert "Motivo da retenção: operation under way" in body
    assert "material de abuso sexual de crianças" in body  # the outcome, in Portuguese too

    officer = make_user("law_enforcement")
    review = timezone.now() + timedelta(days=3)
    holds.keep(held.pk, officer, reason="ainda em vigilância", review_at=review)
    holds.due(review + timedelta(minutes=1))
    assert hold_referrals.remind_due_holds() == 1
    reminder = smtp.messages[-1][1]
    assert reminder["Subject"].startswith(f"Revisão devida: caso {held.pk}")
    assert "Motivo da manutenção: ainda em vigilância" in reminder.get_content()
