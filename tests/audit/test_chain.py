"""The audit log is a hash chain: tampering is found at its row; concurrent writers never fork it."""

import io
import threading
from contextlib import redirect_stderr, redirect_stdout

import pytest
from django.db import close_old_connections, connection, transaction

from openmnr import cli
from openmnr.audit import services
from openmnr.audit.models import AuditEvent
from openmnr.audit.triggers import lifted


def _run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def _raw_sql(sql, params=()):
    """Change the table behind the application's back, as an intruder with database access would."""
    with lifted(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _fill(n=10):
    start = AuditEvent.objects.count()
    for i in range(n):
        services.record("test.event", object_type="test", object_id=str(i), detail={"i": i})
    return start


@pytest.mark.django_db
def test_intact_chain_verifies_and_head_matches_last_row():
    _fill()
    code, out, _ = _run_cli("audit", "verify")
    assert code == 0 and "intact" in out
    last = AuditEvent.objects.order_by("seq").last()
    code, out, _ = _run_cli("audit", "head")
    assert out.split() == [str(last.seq), last.hash]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column,value", [("outcome", "'failure'"), ("actor", "'someone-else'"), ("detail", "'{\"i\": 99}'")]
)
def test_changing_one_row_breaks_verify_at_that_row(column, value):
    start = _fill()
    target = AuditEvent.objects.order_by("seq")[start + 4]
    if connection.vendor == "postgresql" and column == "detail":
        value += "::jsonb"
    _raw_sql(f"UPDATE audit_auditevent SET {column} = {value} WHERE seq = %s", [target.seq])
    code, _, err = _run_cli("audit", "verify")
    assert code == 1
    assert f"sequence number {target.seq}:" in err


@pytest.mark.django_db
def test_deleting_a_row_breaks_verify_at_that_row():
    start = _fill()
    target = AuditEvent.objects.order_by("seq")[start + 2]
    _raw_sql("DELETE FROM audit_auditevent WHERE seq = %s", [target.seq])
    result = services.verify()
    assert not result.ok and result.broken_seq == target.seq


@pytest.mark.django_db
def test_deleting_the_last_rows_is_noticed():
    _fill()
    last = AuditEvent.objects.order_by("seq").last()
    _raw_sql("DELETE FROM audit_auditevent WHERE seq = %s", [last.seq])
    assert not services.verify().ok


@pytest.mark.django_db
def test_the_code_offers_no_update_or_delete():
    _fill(1)
    assert not hasattr(services, "update") and not hasattr(services, "delete")


@pytest.mark.django_db
def test_the_database_refuses_update_and_delete():
    """A trigger on PostgreSQL and on SQLite: whoever writes SQL directly is refused too."""
    from django.db import DatabaseError

    _fill(2)
    for sql in ("UPDATE audit_auditevent SET outcome = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    before = AuditEvent.objects.count()
    errors = []

    def write(worker):
        try:
            for i in range(15):
                services.record("test.concurrent", object_type="worker", object_id=f"{worker}-{i}")
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert AuditEvent.objects.count() == before + 60
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert services.verify().ok
