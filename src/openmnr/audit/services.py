"""Writing and checking the audit log. The only way rows are written; there is no update or delete.

Each event's hash is an HMAC-SHA256, under the audit key (``keys.py``, kept out of the database),
of the previous event's hash and the event's canonical content. Whoever can write the database but
lacks the key cannot change, remove, insert or renumber an event without ``verify`` naming the first
event that no longer fits. Whoever also holds the key could rewrite the chain consistently; the
checkpoints (``checkpoints.py``: the head's sequence number and hash, signed and written outside
the database every minute the chain grew, optionally to a syslog witness) catch that for every
event up to the latest checkpoint: ``verify`` fails when the chain no longer holds the event a
checkpoint vouches for, with the hash it vouched for.

A chain written before the key existed (plain SHA-256) is kept as it is: the first event written
with a key is ``audit.chain_keyed``, which names the key's id and how many unkeyed events precede
it, and is itself keyed over the last unkeyed hash, so the old events cannot be changed afterwards
without breaking it. ``verify`` accepts unkeyed events only before the first keyed one, and the
first keyed one only as event 1 (a chain that never was unkeyed) or as that switch. A chain made
entirely unkeyed again by an intruder verifies on its own, but not against any checkpoint written
since the switch (each records where keying began).

Appending costs what it did: one HMAC instead of one SHA-256 over the same bytes, under the same
row lock on the head.

**One statement per event**: ``record`` appends from the head this process remembers, checked
and moved by the database in the same statement that inserts the event (``appending.py`` has the
argument that this is exact under concurrency); the locked read of the head is the fallback.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from openmnr.common.request import client_address as address_of
from openmnr.common.request import current_request

from . import appending, keys
from .models import GENESIS_HASH, AuditEvent, AuditHead

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"
SWITCH_ACTION = "audit.chain_keyed"

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


def chain_hash(prev_hash: str, event: AuditEvent, key: bytes | None) -> str:
    """The event's hash: HMAC-SHA256 under `key`, or plain SHA-256 for events from before the key."""
    message = prev_hash.encode() + canonical(event)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


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
    # A caller that already checked the actor's role for this request may hand it over as
    # ``audit_role`` (the /ispws/ credential cache does, for as long as it trusts the permission
    # it checked at the same time); otherwise it is read now.
    role = getattr(actor, "audit_role", None)
    return actor.get_username(), primary_role(actor) if role is None else role


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
    key = keys.audit_key()
    fields = {
        "actor": actor_name,
        "role": role,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "outcome": outcome,
        "request_id": getattr(request, "request_id", "") if request is not None else "",
        "client_address": address,
        "detail": detail or {},
    }
    with transaction.atomic(savepoint=False):
        head = appending.guess()
        for _attempt in range(2):
            if head is None:
                break
            event = _link(appending.Head(*head), key, **fields)
            found = appending.compare_and_append(event, head)
            if found is None:  # no head row, or a chain not keyed yet: the ORM path below
                break
            if found == (event.seq, event.hash):
                appending.remember(event)
                return event
            head = found  # where the head is, now locked by this transaction: cannot miss again
        event = _append_locked(key, fields)
    appending.remember(event)
    return event


def _append_locked(key: bytes, fields: dict) -> AuditEvent:
    """The first event of a process, or of a chain without a keyed head: the head read under its
    row lock (created if missing, switched to the keyed chain if needed), then the event appended
    and the head moved, through the ORM."""
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    _start_keyed_chain(head, key)
    event = _append(head, key, **fields)
    head.save(update_fields=["seq", "hash", "keyed_from"])
    return event


def record_many(
    action: str,
    objects: list,
    details: list[dict],
    *,
    request=None,
    actor=None,
    outcome: str = SUCCESS,
    client_address: bool = True,
) -> list[AuditEvent]:
    """Append one event per object, as many `record` calls would, but under one lock of the head
    and in one INSERT: the form for work done in bulk (a batch of reports), where a round trip per
    event would cost more than the work. Each event is its own link of the chain, with the hash
    `record` would have given it, so `verify` cannot tell the two apart."""
    if not objects:
        return []
    if request is None:
        request = current_request.get()
    actor_name, role = describe_actor(request, actor)
    address = ""
    if request is not None and client_address and settings.AUDIT_CLIENT_ADDRESS:
        address = address_of(request)
    request_id = getattr(request, "request_id", "") if request is not None else ""
    key = keys.audit_key()
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        _start_keyed_chain(head, key)
        events = [
            _link(
                head,
                key,
                actor=actor_name,
                role=role,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                outcome=outcome,
                request_id=request_id,
                client_address=address,
                detail=detail or {},
            )
            for obj, detail in zip(objects, details, strict=True)
        ]
        AuditEvent.objects.bulk_create(events)
        head.save(update_fields=["seq", "hash", "keyed_from"])
    return events


def _start_keyed_chain(head: AuditHead, key: bytes) -> None:
    """Mark where the keyed chain starts, the first time a key is used; a chain from before the
    key gets a first keyed event that says so (the switch), so verification knows where to change."""
    if head.keyed_from is None:
        head.keyed_from = head.seq + 1
        if head.seq:
            _append(
                head,
                key,
                actor="system",
                action=SWITCH_ACTION,
                detail={"key_id": keys.key_id(key), "unkeyed_events": head.seq},
            )


def _append(head: AuditHead, key: bytes, **fields) -> AuditEvent:
    event = _link(head, key, **fields)
    event.save(force_insert=True)
    return event


def _link(head: AuditHead, key: bytes, **fields) -> AuditEvent:
    """The next event of the chain, not yet saved; the head moves on to it."""
    event = AuditEvent(
        seq=head.seq + 1,
        at=datetime.now(UTC),
        prev_hash=head.hash,
        **{"role": "", "object_type": "", "object_id": "", "outcome": SUCCESS, "request_id": "", **fields},
    )
    event.hash = chain_hash(head.hash, event, key)
    head.seq, head.hash = event.seq, event.hash
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""
    keyed_from: int | None = None  # the first keyed event; None: the chain is not keyed (yet)
    checkpoint: object = None  # the checkpoints.Checkpoint the chain was checked against


class ChainBroken(Exception):
    def __init__(self, seq: int | None, reason: str):
        super().__init__(f"at event {seq}: {reason}" if seq is not None else reason)
        self.seq, self.reason = seq, reason


def walk(events, *, prev_hash: str, expected_seq: int, keyed_from: int | None, key: bytes):
    """Check `events` (in seq order) against the chain rules, starting after the event with
    `prev_hash` and `expected_seq` - 1. Yields each event once it is checked; raises ChainBroken at
    the first that does not fit. `keyed_from` is where keying began, or None while not yet seen."""
    for event in events:
        if event.seq != expected_seq:
            raise ChainBroken(expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            raise ChainBroken(event.seq, "does not follow the event before it")
        if keyed_from is not None:
            if chain_hash(prev_hash, event, key) != event.hash:
                raise ChainBroken(
                    event.seq,
                    "content does not match its keyed hash (changed, or not written under this audit key)",
                )
        elif chain_hash(prev_hash, event, None) != event.hash:
            if chain_hash(prev_hash, event, key) != event.hash:
                raise ChainBroken(event.seq, "content does not match its hash")
            if event.seq != 1 and event.action != SWITCH_ACTION:
                raise ChainBroken(event.seq, "a keyed event follows unkeyed ones without the switch")
            keyed_from = event.seq
        prev_hash, expected_seq = event.hash, expected_seq + 1
        yield event, keyed_from


def verify(checkpoint_file=None) -> Verification:
    """Walk the chain from the first event; name the first one where it breaks. Then check it
    against the latest checkpoint (in AUDIT_CHECKPOINT_DIR, or in `checkpoint_file`, a copy kept
    by a witness)."""
    from . import checkpoints

    key = keys.audit_key()
    try:
        checkpoint = checkpoints.latest(checkpoint_file)
    except checkpoints.CheckpointError as error:
        return Verification(False, 0, GENESIS_HASH, None, str(error))
    prev_hash, count, keyed_from, hash_at_checkpoint = GENESIS_HASH, 0, None, None
    events = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    try:
        for event, keyed in walk(events, prev_hash=prev_hash, expected_seq=1, keyed_from=None, key=key):
            prev_hash, count, keyed_from = event.hash, event.seq, keyed
            if checkpoint is not None and event.seq == checkpoint.seq:
                hash_at_checkpoint = event.hash
    except ChainBroken as broken:
        return Verification(False, count, prev_hash, broken.seq, broken.reason, keyed_from, checkpoint)
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (count, prev_hash):
        return Verification(
            False,
            count,
            prev_hash,
            count + 1 if head.seq > count else head.seq,
            "the head does not match the last event (events removed from the end?)",
            keyed_from,
            checkpoint,
        )
    if checkpoint is not None:
        problem = checkpoint.contradiction(count, hash_at_checkpoint, keyed_from, keys.key_id(key))
        if problem:
            seq, reason = problem
            return Verification(False, count, prev_hash, seq, reason, keyed_from, checkpoint)
    return Verification(True, count, prev_hash, keyed_from=keyed_from, checkpoint=checkpoint)


def head() -> tuple[int, str]:
    """(sequence number, hash) of the last row, for anchoring outside the system."""
    last = AuditHead.objects.filter(pk=1).first()
    return (last.seq, last.hash) if last else (0, GENESIS_HASH)
