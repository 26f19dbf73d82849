"""OpenMNR federation messages without Django: sealing and opening, and every refusal the envelope
and body checks make."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.exchange import federation as protocol
from openmnr.core.exchange import federation_body as bodies

SENDER, RECEIVER = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
RECEIVER_ID = protocol.key_id(RECEIVER.public_key())


def forward(**changes) -> dict:
    values = dict(
        case="17",
        url="https://pics.example/gallery",
        reported_at=datetime(2026, 5, 1, tzinfo=UTC),
        classification=bodies.classification("baseline", category="A", age_group="prepubescent"),
        hosting={"country": "BR", "ip": "192.0.2.5", "isp": "Host"},
        items=[{"url": "https://pics.example/1.jpg", "classification": None, "signals": {"md5": "A" * 32}}],
    )
    values.update(changes)
    return bodies.forward_body(**values)


def open_(data, signature, **kwargs):
    keys = {protocol.key_id(SENDER.public_key()): SENDER.public_key()}
    return protocol.open_message(data, signature, key_for=keys.get, own_key_id=RECEIVER_ID, **kwargs)


def test_a_sealed_message_opens_as_sent():
    data, signature = protocol.seal("case.forward", forward(), private_key=SENDER, recipient=RECEIVER_ID)
    message = open_(data, signature)
    assert message.kind == "case.forward" and message.sender == protocol.key_id(SENDER.public_key())
    body = bodies.read_body(message.kind, message.body)
    assert body["items"][0]["signals"] == {"md5": "a" * 32}  # normalised by its signal type
    assert body["classification"]["assessment"] == "baseline"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda d, s: (d.replace(b"gallery", b"galler1"), s), "bad_signature"),
        (lambda d, s: (d, "ed25519=" + "A" * 86), "bad_signature"),
        (lambda d, s: (d, ""), "bad_signature"),
        (lambda d, s: (b"[1, 2]", s), "malformed"),
        (lambda d, s: (b"\xff\xfe", s), "malformed"),
        (lambda d, s: (b" " * (protocol.MAX_MESSAGE_BYTES + 1), s), "too_large"),
    ],
)
def test_a_changed_or_broken_message_is_refused(tamper, reason):
    data, signature = protocol.seal("case.forward", forward(), private_key=SENDER, recipient=RECEIVER_ID)
    with pytest.raises(protocol.MessageRefused) as caught:
        open_(*tamper(data, signature))
    assert caught.value.reason == reason


def test_refusals_for_sender_recipient_and_time():
    stranger = Ed25519PrivateKey.generate()
    data, signature = protocol.seal("case.forward", forward(), private_key=stranger, recipient=RECEIVER_ID)
    with pytest.raises(protocol.MessageRefused, match="no partner holds key") as caught:
        open_(data, signature)
    assert caught.value.reason == "unknown_sender"
    data, signature = protocol.seal("case.forward", forward(), private_key=SENDER, recipient="f" * 32)
    with pytest.raises(protocol.MessageRefused) as caught:
        open_(data, signature)
    assert caught.value.reason == "wrong_recipient"
    old = datetime.now(UTC) - protocol.MAX_SKEW - timedelta(seconds=5)
    data, signature = protocol.seal(
        "case.forward", forward(), private_key=SENDER, recipient=RECEIVER_ID, sent_at=old
    )
    with pytest.raises(protocol.MessageRefused) as caught:
        open_(data, signature)
    assert caught.value.reason == "stale"


@pytest.mark.parametrize(
    "changes",
    [
        {"url": ""},
        {"classification": {"assessment": "illegal"}},
        {"classification": {"assessment": "baseline", "age_group": "teen"}},
        {"hosting": {"country": "Brazil"}},
        {"items": [{"url": "https://x.example/1.jpg", "signals": {"pdq": "not-a-hash"}}]},
        {"items": [{"url": "https://x.example/1.jpg", "signals": {"photodna": "x"}}]},
    ],
)
def test_a_body_outside_the_vocabulary_or_with_bad_signals_is_refused(changes):
    with pytest.raises(protocol.FederationError):
        forward(**changes)
    body = json.loads(json.dumps(forward()))
    body.update(changes)
    with pytest.raises(protocol.FederationError):
        bodies.read_body("case.forward", body)


def test_actions_and_keys():
    body = bodies.action_body(case="17", action="removed", at=datetime(2026, 5, 2, tzinfo=UTC), note="gone")
    assert bodies.read_body("case.action", body)["action"] == "removed"
    with pytest.raises(protocol.FederationError):
        bodies.action_body(case="17", action="deleted", at=datetime.now(UTC))
    pem = protocol.public_key_pem(SENDER.public_key())
    assert protocol.key_id(protocol.parse_public_key(pem)) == protocol.key_id(SENDER.public_key())
    with pytest.raises(protocol.FederationKeyError):
        protocol.parse_public_key("not a key")
