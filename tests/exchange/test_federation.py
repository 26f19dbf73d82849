"""OpenMNR federation over real HTTP: the inbox (Django's live server, messages sent with httpx and
signed with a partner's key made here) and the sender (against a stub partner on 127.0.0.1).
Tampered, replayed, stale, misaddressed and unsigned messages are refused and audited."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from openmnr.core.exchange import federation as protocol
from openmnr.core.exchange import federation_body as bodies
from openmnr.exchange import config, federation, inbox, services
from openmnr.exchange.models import FederatedCase, NetworkEvent, OutboxRow, Partner, RowState


@pytest.fixture
def partner_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def partner(partner_key, db):
    return Partner.objects.create(
        name="Hotline of Examplestan",
        country="EX",
        base_url="http://127.0.0.1:9/",
        public_key=protocol.public_key_pem(partner_key.public_key()),
    )


def forward_message(key, *, url="https://pics.example/gallery", case="A-17", recipient=None, **changes):
    body = bodies.forward_body(
        case=case,
        url=url,
        reported_at=datetime(2026, 5, 1, 9, 0, tzinfo=UTC),
        classification=bodies.classification("baseline", category="A", age_group="prepubescent"),
        hosting={"country": "PT", "ip": "203.0.113.7", "isp": "Example Hosting Lda"},
        items=[
            {
                "url": f"{url}/1.jpg",
                "classification": bodies.classification("baseline", category="A", age_group="prepubescent"),
                "signals": {"md5": "0" * 32, "pdq": "f" * 64},
            }
        ],
    )
    return protocol.seal(
        "case.forward", body, private_key=key, recipient=recipient or config.own_key_id(), **changes
    )


def post(live_server, data: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[protocol.SIGNATURE_HEADER] = signature
    return httpx.post(f"{live_server.url}/api/v1/federation/inbox", content=data, headers=headers, timeout=10)


def refusals():
    from openmnr.audit.models import AuditEvent

    return [
        e.detail["reason"]
        for e in AuditEvent.objects.filter(action="exchange.federation.refuse").order_by("seq")
    ]


def cases():
    from openmnr.hotline.models import Case

    return Case.objects.all()


def test_a_forwarded_case_is_taken_in_with_its_classification(live_server, partner, partner_key):
    data, signature = forward_message(partner_key)
    response = post(live_server, data, signature)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "accepted" and answer["new"]
    case = cases().get(pk=answer["case"])
    assert case.url == "https://pics.example/gallery"
    federated = FederatedCase.objects.get(case=case)
    assert (federated.direction, federated.remote_reference, federated.partner) == (
        "inbound",
        "A-17",
        partner,
    )
    assert (
        federated.classification["assessment"] == "baseline" and federated.classification["category"] == "A"
    )
    assert federated.items[0]["signals"]["md5"] == "0" * 32
    assert "Hotline of Examplestan" in case.reports.get().submission.partner_reference
    assert NetworkEvent.objects.get(case=case).action == "received"
    # The partner is told, in its own reference, that we received it.
    row = OutboxRow.objects.get(channel="federation")
    assert row.kind == "case.action" and row.partner == partner
    assert row.payload["body"] == {**row.payload["body"], "case": "A-17", "action": "received"}


def test_a_replayed_message_is_refused_and_audited(live_server, partner, partner_key):
    data, signature = forward_message(partner_key)
    assert post(live_server, data, signature).status_code == 202
    again = post(live_server, data, signature)
    assert again.status_code == 409 and again.json()["reason"] == "replayed"
    assert cases().count() == 1
    assert refusals() == ["replayed"]


def test_a_tampered_message_is_refused_and_audited(live_server, partner, partner_key):
    data, signature = forward_message(partner_key)
    tampered = data.replace(b"pics.example", b"pics.exampla")
    response = post(live_server, tampered, signature)
    assert response.status_code == 401 and response.json()["reason"] == "bad_signature"
    assert post(live_server, data, None).status_code == 401  # no signature at all
    assert not cases().exists()
    assert refusals() == ["bad_signature", "bad_signature"]


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda key, own: forward_message(Ed25519PrivateKey.generate()), 401, "unknown_sender"),
        (lambda key, own: forward_message(key, recipient="0" * 32), 400, "wrong_recipient"),
        (
            lambda key, own: forward_message(key, sent_at=datetime.now(UTC) - timedelta(hours=2)),
            400,
            "stale",
        ),
        (lambda key, own: (b"{not json", "ed25519=AAAA"), 400, "malformed"),
    ],
)
def test_other_refusals(live_server, partner, partner_key, make, status, reason):
    data, signature = make(partner_key, config.own_key_id())
    response = post(live_server, data, signature)
    assert (response.status_code, response.json()["reason"]) == (status, reason)
    assert not cases().exists() and refusals() == [reason]


def test_a_signed_body_with_terms_we_do_not_know_is_refused(live_server, partner, partner_key):
    body = json.loads(forward_message(partner_key)[0])["body"]
    body["classification"]["assessment"] = "illegal"
    envelope = {
        "format": protocol.FORMAT,
        "id": "a" * 32,
        "kind": "case.forward",
        "sender": protocol.key_id(partner_key.public_key()),
        "recipient": config.own_key_id(),
        "sent_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": body,
    }
    data = json.dumps(envelope).encode()
    response = post(live_server, data, protocol.sign(partner_key, data))
    assert response.status_code == 400 and "illegal" in response.json()["detail"]


def test_a_partner_reports_its_action_on_a_case_we_forwarded(
    live_server, partner, partner_key, public_case, assess
):
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    assert services.forward(case_id, hosting={"country": "EX"}) == "federation"

    body = bodies.action_body(case=str(case_id), action="removed", at=datetime(2026, 5, 2, 8, 30, tzinfo=UTC))
    data, signature = protocol.seal(
        "case.action", body, private_key=partner_key, recipient=config.own_key_id()
    )
    assert post(live_server, data, signature).status_code == 202
    event = NetworkEvent.objects.get(case_id=case_id, action="removed")
    assert event.partner == "Hotline of Examplestan" and "Removed" in event.text
    assert services.removed_through_network(case_id) == datetime(2026, 5, 2, 8, 30, tzinfo=UTC)

    body = bodies.action_body(case="99999", action="removed", at=datetime.now(UTC))
    data, signature = protocol.seal(
        "case.action", body, private_key=partner_key, recipient=config.own_key_id()
    )
    response = post(live_server, data, signature)
    assert response.status_code == 404 and response.json()["reason"] == "unknown_case"


class StubPartner:
    """A partner's inbox on 127.0.0.1 that answers the statuses it is given, in order."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.received: list[tuple[bytes, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                data = self.rfile.read(int(self.headers["Content-Length"]))
                stub.received.append((data, self.headers.get(protocol.SIGNATURE_HEADER, "")))
                status, answer = stub.statuses.pop(0) if stub.statuses else (202, {"status": "accepted"})
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db
def test_sending_retries_until_the_partner_has_it_once(partner, public_case, assess):
    stub = StubPartner([(503, {}), (409, {"reason": "replayed", "detail": "seen"})])
    partner.base_url = stub.url
    partner.save()
    try:
        case_id = public_case("https://host.example/page")
        assess(case_id, "baseline", age_group="prepubescent", category="A")
        federation.forward(case_id, partner, hosting={"country": "EX", "ip": "192.0.2.1"})
        row = OutboxRow.objects.get(channel="federation")
        assert federation.send_due() == 0
        row.refresh_from_db()
        assert row.state == RowState.PENDING and "HTTP 503" in row.error
        assert federation.send_due() == 1  # 409 replayed: the first try had arrived after all
        row.refresh_from_db()
        assert row.state == RowState.SENT and row.attempts == 2
        assert federation.send_due() == 0 and len(stub.received) == 2
    finally:
        stub.close()
    # Both tries are the same message (one id), properly signed by us, for this partner only.
    ids = set()
    for data, signature in stub.received:
        message = protocol.open_message(
            data,
            signature,
            key_for=lambda kid: config.signing_key().public_key(),
            own_key_id=partner.key_id,
        )
        ids.add(message.id)
        assert message.body["url"] == "https://host.example/page"
        assert message.body["classification"]["assessment"] == "baseline"
        assert "media" not in json.dumps(message.body)
    assert len(ids) == 1


@pytest.mark.django_db
def test_a_refusal_by_the_partner_fails_the_row(partner, public_case, assess):
    stub = StubPartner([(401, {"reason": "bad_signature", "detail": "the signature does not match"})])
    partner.base_url = stub.url
    partner.save()
    try:
        case_id = public_case("https://host.example/page")
        assess(case_id, "baseline", age_group="prepubescent", category="A")
        federation.forward(case_id, partner, hosting={"country": "EX"})
        federation.send_due()
    finally:
        stub.close()
    row = OutboxRow.objects.get(channel="federation")
    assert row.state == RowState.FAILED and "HTTP 401" in row.error
    assert row.field_errors == {"bad_signature": ["the signature does not match"]}


@pytest.mark.django_db
def test_an_administrator_enters_a_partner_with_checks(partner_key):
    from django.core.exceptions import ValidationError

    good = protocol.public_key_pem(partner_key.public_key())
    with pytest.raises(ValidationError, match="https"):
        Partner(name="x", base_url="http://hotline.example/", public_key=good).full_clean()
    x25519 = (
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValidationError, match="not an Ed25519 public key"):
        Partner(name="x", base_url="https://hotline.example/", public_key=x25519).full_clean()
    with pytest.raises(ValidationError, match="ISO"):
        Partner(
            name="x", base_url="https://hotline.example/", public_key=good, country="Examplestan"
        ).full_clean()
    partner = Partner(name="x", base_url="https://hotline.example/", public_key=good, country="ex")
    partner.full_clean()
    assert partner.country == "EX" and partner.key_id == protocol.key_id(partner_key.public_key())


def test_our_outcome_goes_back_to_the_partner_once(live_server, partner, partner_key, assess):
    data, signature = forward_message(partner_key)
    case_id = post(live_server, data, signature).json()["case"]
    assert federation.queue_outcomes() == 0  # not assessed yet
    assess(case_id, "not_illegal")
    assert federation.queue_outcomes() == 1
    assert federation.queue_outcomes() == 0
    actions = [
        r.payload["body"]["action"] for r in OutboxRow.objects.filter(channel="federation").order_by("pk")
    ]
    assert actions == ["received", "not_illegal"]


@pytest.mark.django_db
def test_a_flood_of_refused_messages_does_not_flood_the_audit_log():
    from openmnr.audit.models import AuditEvent

    for _ in range(inbox.REFUSALS_PER_MINUTE):
        assert inbox.receive(b"garbage", "")[0] == 400
    status, answer = inbox.receive(b"garbage", "")
    assert status == 429 and answer["reason"] == "too_many_refusals"
    assert AuditEvent.objects.filter(action="exchange.federation.refuse").count() == inbox.REFUSALS_PER_MINUTE


@pytest.mark.django_db
def test_a_forward_carries_signals_but_a_long_video_hash_stays_home(partner, public_case, assess):
    import hashlib

    from openmnr.hotline.models import MediaItem

    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    frames = "\n".join(f"{n},100,{'0' * 64},{n / 30:.3f}" for n in range(3000))
    for position, vpdq in enumerate(["", frames]):
        url = f"https://host.example/{position}.mp4"
        MediaItem.objects.create(
            case_id=case_id,
            position=position,
            url=url,
            url_sha256=hashlib.sha256(url.encode()).hexdigest(),
            md5="1" * 32,
            vpdq=vpdq,
        )
    row = federation.forward(case_id, partner, hosting={"country": "EX"})
    items = row.payload["body"]["items"]
    assert [item["signals"] for item in items] == [{"md5": "1" * 32}, {"md5": "1" * 32}]
    assert len(json.dumps(row.payload)) < protocol.MAX_MESSAGE_BYTES
    from openmnr.audit.models import AuditEvent

    assert not AuditEvent.objects.filter(action="exchange.forward").exists()  # services.forward audits
