"""Writing and checking the audit log. The only way rows are written; there is no update or delete."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from openmnr.common.request import client_address as address_of
from openmnr.common.request import current_request

from .models import GENESIS_HASH, AuditEvent, AuditHead

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"

_CHAINED_FIELDS = (
    "seq",
    "at",
    "actor",
    "role",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "client_address",
    "detail",
)


def canonical(event: AuditEvent) -> bytes:
    """The bytes a row's hash covers: its fields as compact JSON with sorted keys, time in UTC."""
    content = {name: getattr(event, name) for name in _CHAINED_FIELDS}
    content["at"] = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def describe_actor(request=None, actor=None) -> tuple[str, str]:
    """(actor, role) for a request or a user. API calls name the key, never its secret."""
    from openmnr.accounts.roles import primary_role

    api_key = getattr(request, "api_key", None) if request is not None else None
    if api_key is not None:
        return f"apikey:{api_key.prefix}", primary_role(api_key.owner)
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if actor is None:
        return ("public" if request is not None else "system"), ""
    return actor.get_username(), primary_role(actor)


def record(
    action: str,
    *,
    request=None,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    outcome: str = SUCCESS,
    detail: dict | None = None,
    client_address: bool = True,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the action it records, so both commit
    or neither does. `client_address=False` for public reporters, whose address is never kept."""
    if request is None:
        request = current_request.get()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_name, role = describe_actor(request, actor)
    address = ""
    if request is not None and client_address and settings.AUDIT_CLIENT_ADDRESS:
        address = address_of(request)
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=datetime.now(UTC),
            actor=actor_name,
            role=role,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            outcome=outcome,
            request_id=getattr(request, "request_id", "") if request is not None else "",
            client_address=address,
            detail=detail or {},
            prev_hash=head.hash,
        )
        event.hash = chain_hash(head.hash, event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def verify() -> Verification:
    """Walk the chain from the first row; name the first sequence number where it breaks."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return Verification(False, count, prev_hash, expected_seq, f"row {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return Verification(False, count, prev_hash, event.seq, "does not follow the row before it")
        if chain_hash(prev_hash, event) != event.hash:
            return Verification(False, count, prev_hash, event.seq, "content does not match its hash")
        prev_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (count, prev_hash):
        return Verification(
            False,
            count,
            prev_hash,
            count + 1 if head.seq > count else head.seq,
            "the head does not match the last row (rows removed from the end?)",
        )
    return Verification(True, count, prev_hash)


def head() -> tuple[int, str]:
    """(sequence number, hash) of the last row, for anchoring outside the system."""
    last = AuditHead.objects.filter(pk=1).first()
    return (last.seq, last.hash) if last else (0, GENESIS_HASH)
