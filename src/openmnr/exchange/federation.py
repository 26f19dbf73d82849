"""OpenMNR federation in the app, the sending side: forwarding a case to a partner and telling the
partners what was done about the cases they forwarded (inbox.py takes messages in). The message
format and its checks are the core's (openmnr.core.exchange.federation and federation_body); this
module keeps the state.

Sending goes through the outbox like ICCAM: a forward or an action is a row with a dedupe key
(``fed:forward:<partner>:<case>``), and its message id is fixed when the row is made. A retry after a
lost answer is sealed again with a fresh time but the same id, so the partner refuses it as a replay
(HTTP 409), which tells us the first one arrived: the row is sent, once. Rows are sent by a task
enqueued when they commit, and by the worker's clock for those that had to wait.

"""

import json
import logging
import secrets
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openmnr.core.exchange import federation as protocol
from openmnr.core.exchange import federation_body as bodies
from openmnr.hotline import services as hotline

from . import config, network, outbox
from .models import Channel, Direction, FederatedCase, OutboxRow, Partner, RowState

log = logging.getLogger(__name__)


class ForwardRefused(Exception):
    """A case that cannot be forwarded (not assessed, partner inactive)."""


def check_partner(country: str, base_url: str, public_key: str) -> tuple[str, str]:
    """(country, key id) of a partner an administrator entered; ValueError naming what is wrong."""
    country = (country or "").strip().upper()
    if country and not (len(country) == 2 and country.isalpha()):
        raise ValueError("use the two-letter ISO code for the country")
    parts = urlsplit(base_url or "")
    if not (
        parts.scheme == "https"
        or (parts.scheme == "http" and parts.hostname in settings.FEDERATION_ALLOW_HTTP)
    ):
        raise ValueError("a partner's address must start with https://")
    try:
        key = protocol.parse_public_key(public_key or "")
    except protocol.FederationKeyError as exc:
        raise ValueError(f"public key: {exc}") from None
    return country, protocol.key_id(key)


def partner_for_country(country: str) -> Partner | None:
    if not country:
        return None
    return Partner.objects.filter(country=country.upper(), active=True).order_by("pk").first()


# --- sending --------------------------------------------------------------------------------------


def forward(case_id: int, partner: Partner, *, hosting: dict) -> OutboxRow:
    """Queue the forward of an assessed case to `partner` (in the caller's transaction): its URL,
    hosting, classification, and its items' classifications and signals. Never media."""
    if not partner.active:
        raise ForwardRefused(f"{partner.name} is not an active partner")
    case = hotline.case_summary(case_id)
    if not case.assessment:
        raise ForwardRefused(f"case {case_id} is not assessed yet")
    items = [
        {
            "url": item.url,
            "classification": bodies.classification(
                item.assessment,
                category=item.category,
                age_group=item.age_group,
                gender=item.gender,
                flags=list(item.flags) if item.flags is not None else None,
            )
            if item.assessment
            else None,
            "signals": item.signals,
        }
        for item in hotline.items_of(case_id)
    ]
    if len(json.dumps(items)) > protocol.MAX_MESSAGE_BYTES // 2:
        # A long video's vPDQ (a line per frame) would not fit one message: its other signals go.
        for item in items:
            item["signals"].pop("vpdq", None)
    body = bodies.forward_body(
        case=str(case_id),
        url=case.url,
        reported_at=case.opened_at,
        classification=bodies.classification(
            case.assessment, category=case.category, age_group=case.age_group
        ),
        hosting={
            "country": hosting.get("country", ""),
            "ip": hosting.get("ip", ""),
            "isp": hosting.get("isp", ""),
        },
        items=items,
    )
    row, created = _enqueue("case.forward", f"fed:forward:{partner.pk}:{case_id}", body, partner, case_id)
    if created:
        FederatedCase.objects.get_or_create(
            case_id=case_id,
            partner=partner,
            direction=Direction.OUTBOUND,
            defaults={
                "remote_reference": "",
                "classification": body["classification"],
                "hosting": body["hosting"],
            },
        )
        network.record_event(
            case_id,
            Channel.FEDERATION,
            partner=partner.name,
            action="forwarded",
            at=timezone.now(),
            text=f"forwarded to {partner.name} (signed, {len(items)} item(s), no media)",
            dedupe_key=f"fed:forwarded:{partner.pk}:{case_id}",
        )
    return row


def queue_actions(
    case_id: int, action: str, at: datetime, *, note: str = "", hosting: dict | None = None
) -> int:
    """Tell every partner that forwarded us this case what we did; how many messages are new."""
    if action not in bodies.ACTIONS:
        return 0
    created = 0
    for federated in FederatedCase.objects.filter(
        case_id=case_id, direction=Direction.INBOUND, partner__active=True
    ):
        body = bodies.action_body(
            case=federated.remote_reference, action=action, at=at, note=note, hosting=hosting
        )
        key = f"fed:action:{federated.partner_id}:{federated.remote_reference}:{action}"
        created += _enqueue("case.action", key, body, federated.partner, case_id)[1]
    return created


def queue_outcomes() -> int:
    """Tell the partner how we assessed each case it forwarded, once: not illegal, or nothing there
    to assess (unavailable). An illegal outcome needs no message: our actions follow as they happen."""
    queued = 0
    waiting = FederatedCase.objects.filter(direction=Direction.INBOUND, outcome_queued=False)
    for federated in waiting.select_related("partner"):
        case = hotline.case_summary(federated.case_id)
        if case.state == hotline.State.NOT_ACTIONABLE:
            action = "unavailable"
        elif case.state == hotline.State.DUPLICATE:
            action = ""
        elif case.assessment in ("not_illegal", "not_assessable"):
            action = "not_illegal"
        elif case.assessment:
            action = ""
        else:
            continue  # not assessed yet
        with transaction.atomic():
            if action:
                queued += queue_actions(federated.case_id, action, timezone.now())
            FederatedCase.objects.filter(case_id=federated.case_id, direction=Direction.INBOUND).update(
                outcome_queued=True
            )
    return queued


def _enqueue(kind, key, body, partner, case_id) -> tuple[OutboxRow, bool]:
    payload = {"kind": kind, "body": body, "message_id": secrets.token_hex(16)}
    row, created = outbox.enqueue(
        channel=Channel.FEDERATION,
        kind=kind,
        dedupe_key=key,
        payload=payload,
        case_id=case_id,
        partner=partner,
    )
    if created:
        transaction.on_commit(_send_soon)
    return row, created


def _send_soon() -> None:
    from .tasks import send_federation

    try:
        send_federation.enqueue()
    except Exception:  # the clock sends it within a minute anyway
        log.exception("could not enqueue the federation sender")


def send_due() -> int:
    """Send every federation message that is due; how many reached their partner."""
    delivered = 0
    for row_id in outbox.due(Channel.FEDERATION):
        row = outbox.claim(row_id)
        if row is not None:
            delivered += _send(row)
    return delivered


def _send(row: OutboxRow) -> bool:
    partner = row.partner
    try:
        key = config.signing_key()
    except config.NotConfigured as exc:
        outbox.retry_later(row, str(exc))
        return False
    data, signature = protocol.seal(
        row.payload["kind"],
        row.payload["body"],
        private_key=key,
        recipient=partner.key_id,
        message_id=row.payload["message_id"],
    )
    url = urljoin(partner.base_url.rstrip("/") + "/", protocol.INBOX_PATH)
    if not _allowed(url):
        outbox.finish(row, RowState.FAILED, error=f"{url}: partners are reached over https:// only")
        return False
    try:
        response = httpx.post(
            url,
            content=data,
            headers={"Content-Type": "application/json", protocol.SIGNATURE_HEADER: signature},
            timeout=settings.FEDERATION_TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        outbox.retry_later(row, f"{partner.name} did not answer: {exc}")
        return False
    answer = _answer(response)
    if 200 <= response.status_code < 300 or (
        response.status_code == 409 and answer.get("reason") == "replayed"
    ):
        outbox.finish(row, RowState.SENT, result={"status": response.status_code, **answer})
        return True
    if response.status_code >= 500 or response.status_code in (408, 429):
        outbox.retry_later(row, f"{partner.name} answered HTTP {response.status_code}")
        return False
    outbox.finish(
        row,
        RowState.FAILED,
        error=f"{partner.name} refused the message (HTTP {response.status_code}): {answer.get('detail', '')}",
        field_errors={answer.get("reason", ""): [answer.get("detail", "")]} if answer else {},
    )
    return False


def _allowed(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in settings.FEDERATION_ALLOW_HTTP
    )


def _answer(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return {k: str(v)[:500] for k, v in data.items()} if isinstance(data, dict) else {}
