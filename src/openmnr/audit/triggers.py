"""The triggers that refuse UPDATE and DELETE on the audit table (PostgreSQL's made by migration
0002, SQLite's by 0003), and a way to lift them to empty the whole database (Django's ``flush``:
tests and fresh installs; the tests also play an intruder with it)."""

from contextlib import contextmanager

from django.db import connections

CREATE = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END""",
]
DROP = ["DROP TRIGGER IF EXISTS audit_event_no_update", "DROP TRIGGER IF EXISTS audit_event_no_delete"]


PG_TABLE = "ALTER TABLE audit_auditevent {} TRIGGER audit_event_append_only"


@contextmanager
def lifted(database: str = "default"):
    """Without the triggers for the duration."""
    connection = connections[database]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(PG_TABLE.format("DISABLE"))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(PG_TABLE.format("ENABLE"))
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        present = cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_event_no_%'"
        ).fetchone()[0]
        for statement in DROP:
            cursor.execute(statement)
    try:
        yield
    finally:
        if present:
            with connection.cursor() as cursor:
                for statement in CREATE:
                    cursor.execute(statement)
