"""The keyed chain's head field, and SQLite triggers that make the audit table append-only as the
PostgreSQL trigger of 0002 does.

The triggers are dropped with the table: a later migration that makes Django rebuild this table on
SQLite must create them again (tests/audit/test_chain.py fails if they are missing). Django's
``flush`` empties every table with DELETE on SQLite; openmnr.audit overrides that command to lift
the triggers for its duration (tests and fresh installs only).
"""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [
        migrations.AddField(
            model_name="audithead",
            name="keyed_from",
            field=models.BigIntegerField(
                blank=True, help_text="The first event hashed under the audit key; empty until one is.", null=True
            ),
        ),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
