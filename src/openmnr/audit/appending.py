"""Appending an audit event in one statement, from the head this process remembers.

**One statement per event** (``compare_and_append``, called by ``services.record``). A request that writes an event used to
pay for a savepoint, a locked read of the head, an insert and an update of the head, each built
by the ORM. Now each process remembers the head it last wrote (``guess``: sequence number and
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
  path with the ORM (``services._append_locked``) creates it and writes the switch to a keyed chain.

No savepoint is opened: the event belongs to the caller's transaction (``record`` is called
inside the action's own), and a failure rolls the whole action back, as it should.
"""

import threading
from dataclasses import dataclass

from django.db import connection

from .models import AuditEvent, AuditHead


@dataclass
class Head:
    seq: int
    hash: str


#: (seq, hash) of the last event this process wrote: a guess that saves the head's read.
_hint: tuple[int, str] | None = None
_hint_lock = threading.Lock()


def remember(event: AuditEvent) -> None:
    global _hint
    with _hint_lock:
        _hint = (event.seq, event.hash)


def guess() -> tuple[int, str] | None:
    return _hint


def forget() -> None:
    """Drop the remembered head (it is only ever a guess; tests that empty the table call this)."""
    global _hint
    with _hint_lock:
        _hint = None


def compare_and_append(event: AuditEvent, expected: tuple[int, str]) -> tuple[int, str] | None:
    """Move the head from ``expected`` to ``event`` and insert ``event``, or change nothing when
    the head is not at ``expected``; either way the head row is locked for the rest of the
    transaction. Returns the head's (seq, hash) after the statement (``event``'s when it was
    written), or None when there is no keyed head (the module docstring says why this is exact
    under concurrency)."""
    head_table = connection.ops.quote_name(AuditHead._meta.db_table)
    event_table = connection.ops.quote_name(AuditEvent._meta.db_table)
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
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
