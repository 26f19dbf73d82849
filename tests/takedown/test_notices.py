"""Notices: by e-mail through a real SMTP server (aiosmtpd on 127.0.0.1) and as signed webhooks to a
local receiver; in the recipient's language, with a unique reference, the URLs, the operator's
legal text and an acknowledgement link, never media or hashes; first after the configured delay,
repeated every 24 hours, escalated after three."""

import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest

from openmnr.hotline.models import MediaItem
from openmnr.takedown import services
from openmnr.takedown.delivery import SIGNATURE_HEADER
from openmnr.takedown.models import DirectoryEntry, EventKind, Notice, Policy, TakedownCase

pytestmark = pytest.mark.django_db

ZONE = {("example.pt", "A"): ["203.0.113.7"], ("shop.example.de", "A"): ["192.0.2.9"]}
ITEM = {"sha256": "5e" * 32, "md5": "a1" * 16, "pdq": "f0" * 32}


@pytest.fixture
def hosted(rdap, static_tracer, tools, always, directory):
    """tools for cases on example.pt (Portugal, AS64500) and shop.example.de (Germany, AS64501)."""
    rdap.network("203.0.113.7", "abuse@hosting.test")
    rdap.network("192.0.2.9", "abuse@other-hosting.test")
    rdap.domain("example.pt", "Example Registrar", "abuse@registrar.test")
    directory()
    policy = Policy.current()
    policy.legal_text_en = "Notice under the Test Act, article 7."
    policy.legal_text_pt = "Notificação ao abrigo da Lei de Teste, artigo 7.º."
    policy.save()
    return tools(tracer=static_tracer(ZONE), check=always("online"))


def _with_item(case):
    MediaItem.objects.create(
        case=case,
        position=0,
        url=case.url + "/photo.jpg",
        url_sha256="0" * 64,
        media_type="image/jpeg",
        **ITEM,
    )
    return case


def test_first_notice_by_smtp_after_an_hour_in_portuguese_without_hashes(hosted, assessed_case, smtp, clock):
    case = _with_item(assessed_case("https://example.pt/gallery"))

    services.tick(clock.now, tools=hosted)
    services.tick(clock.advance(minutes=59), tools=hosted)
    assert smtp.messages == []  # not known material: an hour for a second look first

    services.tick(clock.advance(minutes=1), tools=hosted)
    [(recipients, message)] = smtp.messages
    assert recipients == ["abuse@hosting.test"]
    reference = f"NTD-{case.pk}-01"
    assert (
        message["Subject"]
        == f"Notificação: material de abuso sexual de crianças no seu serviço [{reference}]"
    )
    assert message["From"] == "notices@hotline.test"
    body = message.get_content().replace("\r\n", "\n")
    assert "https://example.pt/gallery\n" in body and "https://example.pt/gallery/photo.jpg" in body
    assert "Lei de Teste, artigo 7.º" in body
    assert re.search(r"http://testserver/staff/takedown/ack/[^/\s]+/", body)
    for value in ITEM.values():
        assert value not in body
    assert not message.is_multipart()  # text only: nothing attached
    notice = Notice.objects.get(reference=reference)
    assert (notice.language, notice.channel, notice.kind) == ("pt", "email", "notice_host")


def test_english_for_a_host_elsewhere_and_at_once_for_known_material(
    hosted, assessed_case, clock, mailoutbox
):
    DirectoryEntry.objects.create(
        kind="provider", name="Other Hosting GmbH", asn=64501, emails="abuse@other-hosting.test"
    )
    Policy.objects.filter(pk=1).update(
        rules=[{"name": "notify every host", "when": {}, "then": ["notice_host"]}]
    )
    assessed_case("https://shop.example.de/item", known=True)

    services.tick(clock.now, tools=hosted)

    [message] = mailoutbox
    assert message.subject.startswith("Notice: child sexual abuse material on your service [NTD-")
    assert "Notice under the Test Act, article 7." in message.body
    assert message.to == ["abuse@other-hosting.test"]


def test_repeated_every_24_hours_and_escalated_after_three(hosted, assessed_case, clock, mailoutbox):
    case = assessed_case("https://example.pt/gallery", known=True)

    services.tick(clock.now, tools=hosted)
    services.tick(clock.advance(hours=23), tools=hosted)
    assert len(mailoutbox) == 1
    services.tick(clock.advance(hours=1), tools=hosted)
    services.tick(clock.advance(hours=24), tools=hosted)
    subjects = [m.subject.split(":")[0] for m in mailoutbox]
    assert subjects == ["Notificação", "Lembrete 2", "Lembrete 3"]

    # The fourth notice goes with an escalation: to the host again and to the registrar.
    services.tick(clock.advance(hours=24), tools=hosted)
    latest = mailoutbox[3:]
    assert [m.subject.split(":")[0] for m in latest] == ["Lembrete 4", "Escalonamento", "Escalonamento"]
    assert latest[2].to == ["abuse@registrar.test"]
    takedown = TakedownCase.objects.get(pk=case.pk)
    assert "escalated after 4 notices" in takedown.analyst_note
    references = list(takedown.notices.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 6


@pytest.fixture
def webhook_entry(webhook):
    return DirectoryEntry.objects.create(
        kind="provider", name="Example Hosting Lda", asn=64500, api_url=webhook.url("/notices"), language="en"
    )


def test_a_provider_with_an_api_gets_a_signed_webhook(
    hosted, webhook, webhook_entry, assessed_case, clock, mailoutbox
):
    case = _with_item(assessed_case("https://example.pt/gallery", known=True))

    services.tick(clock.now, tools=hosted)

    assert mailoutbox == []
    [(headers, body)] = webhook.posts
    timestamp, signature = re.fullmatch(
        r"t=(\d+),v1=([0-9a-f]{64})", headers[SIGNATURE_HEADER.lower()]
    ).groups()
    expected = hmac.new(
        webhook_entry.webhook_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    )
    assert hmac.compare_digest(signature, expected.hexdigest())
    wrong = hmac.new(b"another secret", f"{timestamp}.".encode() + body, hashlib.sha256)
    assert not hmac.compare_digest(signature, wrong.hexdigest())
    payload = json.loads(body)
    assert payload["reference"] == f"NTD-{case.pk}-01" and payload["urls"][0] == "https://example.pt/gallery"
    assert payload["acknowledge_url"].startswith("http://testserver/staff/takedown/ack/")
    for value in ITEM.values():
        assert value not in body.decode()
    assert Notice.objects.get().channel == "webhook"


def test_a_failed_delivery_is_recorded_and_tried_again(hosted, webhook, webhook_entry, assessed_case, clock):
    case = assessed_case("https://example.pt/gallery", known=True)
    webhook.post_status = 500

    services.tick(clock.now, tools=hosted)

    takedown = TakedownCase.objects.get(pk=case.pk)
    assert not takedown.notices.exists() and takedown.first_notice_at is None
    failure = takedown.events.get(kind=EventKind.NOTICE_FAILED)
    assert "HTTP 500" in failure.text
    assert takedown.next_due_at == clock.now + timedelta(minutes=5)

    webhook.post_status = 200
    services.tick(clock.advance(minutes=5), tools=hosted)
    takedown.refresh_from_db()
    assert takedown.notices.get().reference == f"NTD-{case.pk}-01"
    assert takedown.first_notice_at == clock.now
