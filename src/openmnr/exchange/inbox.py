"""OpenMNR federation in the app, the receiving side: POST /api/v1/federation/inbox.

Receiving checks the message (size, JSON, sender, signature, recipient, time; then its body in the
vocabulary's terms), refuses a message id it has applied before, and applies the message in one
transaction with the record of its id: a forwarded case becomes a hotline report of its URL (triaged
like any report; the partner's classification and signals kept beside it), and the partner is told
"received"; an action on a case we forwarded goes on that case's network timeline. Every refusal is
audited with its reason, up to `REFUSALS_PER_MINUTE` from one address: the inbox needs no key, so a
flood of garbage must not flood the audit log.
"""

import dataclasses
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from openmnr.accounts import ratelimit
from openmnr.audit import services as audit
from openmnr.core.exchange import federation as protocol
from openmnr.core.exchange import federation_body as bodies
from openmnr.core.vocabulary import vocabulary
from openmnr.hotline import services as hotline

from . import config, network
from .federation import queue_actions
from .models import Channel, Direction, FederatedCase, InboundMessage, Partner


class Refused(Exception):
    def __init__(self, status: int, reason: str, detail: str):
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail


_STATUS = {
    "too_large": 413,
    "malformed": 400,
    "stale": 400,
    "wrong_recipient": 400,
    "unknown_sender": 401,
    "bad_signature": 401,
    "replayed": 409,
    "unknown_case": 404,
    "not_configured": 503,
}


REFUSALS_PER_MINUTE = 60


def _refusal_key(request) -> str:
    from openmnr.common.request import client_address

    return f"federation-refusals:{client_address(request) if request is not None else 'local'}"


def receive(data: bytes, signature: str, *, request=None) -> tuple[int, dict]:
    """(HTTP status, answer) for one incoming message; every refusal is audited."""
    if ratelimit.exceeded(_refusal_key(request), REFUSALS_PER_MINUTE - 1):
        return 429, {"reason": "too_many_refusals", "detail": "too many refused messages; retry in a minute"}
    partners = {p.key_id: p for p in Partner.objects.filter(active=True)}
    try:
        own = config.own_key_id()
    except config.NotConfigured as exc:
        return _refuse(request, "not_configured", str(exc), "", "")
    try:
        message = protocol.open_message(
            data,
            signature,
            key_for=lambda kid: (
                protocol.parse_public_key(partners[kid].public_key) if kid in partners else None
            ),
            own_key_id=own,
        )
    except protocol.MessageRefused as exc:
        return _refuse(request, exc.reason, str(exc), exc.sender, exc.message_id)
    try:
        body = bodies.read_body(message.kind, message.body)
    except protocol.FederationError as exc:
        return _refuse(request, "malformed", str(exc), message.sender, message.id)
    message = dataclasses.replace(message, body=body)
    partner = partners[message.sender]
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    InboundMessage.objects.create(partner=partner, message_id=message.id, kind=message.kind)
            except IntegrityError:
                raise Refused(409, "replayed", f"message {message.id} was received before") from None
            if message.kind == "case.forward":
                answer = _take_forward(partner, message, request)
            else:
                answer = _take_action(partner, message, request)
    except Refused as exc:
        return _refuse(request, exc.reason, exc.detail, message.sender, message.id)
    return 202, {"status": "accepted", "message": message.id, **answer}


def _refuse(request, reason: str, detail: str, sender: str, message_id: str) -> tuple[int, dict]:
    ratelimit.hit(_refusal_key(request), REFUSALS_PER_MINUTE, 60)
    audit.record(
        "exchange.federation.refuse",
        request=request,
        outcome=audit.DENIED,
        object_type="exchange.message",
        object_id=message_id[:64],
        detail={"reason": reason, "sender": sender[:32], "why": detail[:300]},
    )
    return _STATUS.get(reason, 400), {"reason": reason, "detail": detail}


def _take_forward(partner: Partner, message: protocol.Message, request) -> dict:
    body = message.body
    existing = FederatedCase.objects.filter(
        partner=partner, direction=Direction.INBOUND, remote_reference=body["case"]
    ).first()
    if existing is not None:
        FederatedCase.objects.filter(pk=existing.pk).update(
            classification=body["classification"], items=body["items"]
        )
        return {"case": existing.case_id, "new": False}
    label = vocabulary().assessment.term(body["classification"]["assessment"]).label
    try:
        case = hotline.file_partner_report(
            body["url"],
            partner_reference=f"{partner.name}, case {body['case']}",
            description=f"Forwarded by {partner.name} (OpenMNR federation), assessed there: {label}.",
        )
    except hotline.InvalidReport as exc:
        raise Refused(400, "malformed", f"the URL cannot be checked: {exc}") from None
    FederatedCase.objects.create(
        case_id=case.id,
        partner=partner,
        direction=Direction.INBOUND,
        remote_reference=body["case"],
        classification=body["classification"],
        hosting=body["hosting"],
        items=body["items"],
    )
    network.record_event(
        case.id,
        Channel.FEDERATION,
        partner=partner.name,
        action="received",
        at=timezone.now(),
        text=f"forwarded to us by {partner.name} as its case {body['case']}, assessed there: {label}",
        dedupe_key=f"fed:in:{partner.pk}:{body['case']}",
    )
    audit.record(
        "exchange.federation.receive",
        request=request,
        object_type="hotline.case",
        object_id=str(case.id),
        detail={"partner": partner.name, "kind": message.kind, "items": len(body["items"])},
    )
    queue_actions(case.id, "received", timezone.now())
    return {"case": case.id, "new": True}


def _take_action(partner: Partner, message: protocol.Message, request) -> dict:
    body = message.body
    reference = body["case"]
    forwarded = (
        FederatedCase.objects.filter(
            partner=partner, direction=Direction.OUTBOUND, case_id=int(reference)
        ).first()
        if reference.isdigit()
        else None
    )
    if forwarded is None:
        raise Refused(404, "unknown_case", f"no case {reference} was forwarded to {partner.name}")
    at = datetime.fromisoformat(body["at"].replace("Z", "+00:00")).astimezone(UTC)
    label = dict(vocabulary().action.choices()).get(body["action"], body["action"].replace("_", " "))
    text = f"{partner.name}: {label}" + (f" ({body['note']})" if body["note"] else "")
    network.record_event(
        forwarded.case_id,
        Channel.FEDERATION,
        partner=partner.name,
        action=body["action"],
        at=at,
        text=text,
        dedupe_key=f"fed:{partner.pk}:{reference}:{body['action']}",
    )
    audit.record(
        "exchange.federation.receive",
        request=request,
        object_type="hotline.case",
        object_id=str(forwarded.case_id),
        detail={"partner": partner.name, "kind": message.kind, "action": body["action"]},
    )
    return {"case": forwarded.case_id}
