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

**One statement per event** (``_compare_and_append``). A request that writes an event used to
pay for a savepoint, a locked read of the head, an insert and an update of the head, each built
by the ORM. Now each process remembers the head it last wrote (``_hint``: sequence number and
hash) and computes the next event from it before touching the database; one statement then moves
the head from exactly that (seq, hash) to the new event's and inserts the event, or, when the
head is elsewhere, changes nothing and returns where the head is. The invariant is the same as
under the old locked read: *an event is inserted only together with the head moving from the
event it follows to it, in the same transaction and under the head's row lock*, so two writers
never both follow the same event (no fork) and no sequence number is skipped or repeated:

- the statement's UPDATE of the head row takes the row lock whatever it finds, and on
  PostgreSQL (READ COMMITTED) an UPDATE that waited for a concurrent writer re-evaluates its
  ``CASE`` on the row as that writer committed it, so the comparison is against the committed
  head, never a stale snapshot; the INSERT of the same statement (a data-modifying CTE) reads
  only the UPDATE's result. On SQLite the transaction already holds the database's write lock
  (IMMEDIATE transactions), so the UPDATE ... RETURNING and the INSERT that follows it in the
  same transaction cannot be interleaved with another writer; there the "statement" is two,
  neither a round trip;
- the remembered head is only a guess: a wrong one (another process wrote since, or the
  transaction that wrote it rolled back) inserts nothing and returns the true head, now locked
  by this transaction, and the event is computed again from it and written by the same
  statement, which then cannot miss. So a miss costs one more statement, never a wrong link;
- the head must already be keyed (``keyed_from`` set) and exist; otherwise the first, rare
  path with the ORM (``_append_locked``) creates it and writes the switch to a keyed chain.

No savepoint is opened: the event belongs to the caller's transaction (``record`` is called
inside the action's own), and a failure rolls the whole action back, as it should.
"""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection, transaction

from openmnr.common.request import client_address as address_of
from openmnr.common.request import current_request

from . import keys
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
        head = _hint
        for _attempt in range(2):
            if head is None:
                break
            event = _link(_Head(*head), key, **fields)
            found = _compare_and_append(event, head)
            if found is None:  # no head row, or a chain not keyed yet: the ORM path below
                break
            if found == (event.seq, event.hash):
                _remember(event)
                return event
            head = found  # where the head is, now locked by this transaction: cannot miss again
        event = _append_locked(key, fields)
    _remember(event)
    return event


@dataclass
class _Head:
    seq: int
    hash: str


#: (seq, hash) of the last event this process wrote: a guess that saves the head's read (above).
_hint: tuple[int, str] | None = None
_hint_lock = threading.Lock()


def _remember(event: AuditEvent) -> None:
    global _hint
    with _hint_lock:
        _hint = (event.seq, event.hash)


def forget_hint() -> None:
    """Drop the remembered head (it is only ever a guess; tests that empty the table call this)."""
    global _hint
    with _hint_lock:
        _hint = None


_EVENT_COLUMNS = (*_CHAINED_FIELDS, "prev_hash", "hash")


def _compare_and_append(event: AuditEvent, expected: tuple[int, str]) -> tuple[int, str] | None:
    """Move the head from ``expected`` to ``event`` and insert ``event``, or change nothing when
    the head is not at ``expected``; either way the head row is locked for the rest of the
    transaction. Returns the head's (seq, hash) after the statement (``event``'s when it was
    written), or None when there is no keyed head (see the module docstring for why this is exact
    under concurrency)."""
    head_table = connection.ops.quote_name(AuditHead._meta.db_table)
    event_table = connection.ops.quote_name(AuditEvent._meta.db_table)
    fields = [AuditEvent._meta.get_field(name) for name in _EVENT_COLUMNS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    moved = (
        "seq = CASE WHEN seq = %s AND hash = %s AND keyed_from IS NOT NULL THEN %s ELSE seq END, "
        "hash = CASE WHEN seq = %s AND hash = %s AND keyed_from IS NOT NULL THEN %s ELSE hash END"
    )
    move = [*expected, event.seq, *expected, event.hash]
    placeholders = ", ".join(["%s"] * len(values))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH head AS (UPDATE {head_table} SET {moved} WHERE id = 1 RETURNING seq, hash, keyed_from), "
                f"event AS (INSERT INTO {event_table} ({columns}) SELECT {placeholders} FROM head "
                "WHERE head.seq = %s AND head.hash = %s RETURNING id) "
                "SELECT head.seq, head.hash, head.keyed_from, (SELECT id FROM event) FROM head",
                [*move, *values, event.seq, event.hash],
            )
            row = cursor.fetchone()
            if row is None or row[2] is None:
                return None
            if row[3] is not None:
                event.pk = row[3]
            return row[0], row[1]
        cursor.execute(f"UPDATE {head_table} SET {moved} WHERE id = 1 RETURNING seq, hash, keyed_from", move)
        row = cursor.fetchone()
        if row is None or row[2] is None:
            return None
        if (row[0], row[1]) == (event.seq, event.hash):
            cursor.execute(
                f"INSERT INTO {event_table} ({columns}) VALUES ({placeholders}) RETURNING id", values
            )
            event.pk = cursor.fetchone()[0]
        return row[0], row[1]


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
