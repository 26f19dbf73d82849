"""Appending from a remembered head (one statement per event): a wrong guess never forks the chain."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from openmnr.audit import appending, services
from openmnr.audit.models import AuditEvent


def _seqs():
    return list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))


@pytest.mark.django_db
def test_an_event_written_by_another_process_since_the_guess_is_followed_not_forked():
    services.record("test.first")
    guess = appending.guess()  # what this process would remember
    services.record("test.by-another-process")
    appending._hint = guess  # as if another process had written the second event
    services.record("test.third")
    assert _seqs() == list(range(1, len(_seqs()) + 1))
    third = AuditEvent.objects.order_by("seq").last()
    second = AuditEvent.objects.get(seq=third.seq - 1)
    assert third.action == "test.third" and third.prev_hash == second.hash
    assert services.verify().ok


@pytest.mark.django_db
def test_a_guess_from_a_rolled_back_transaction_is_not_followed():
    services.record("test.kept")
    kept = AuditEvent.objects.order_by("seq").last()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.record("test.rolled-back")
        raise RuntimeError("the action failed")
    assert appending.guess()[0] == kept.seq + 1  # remembers an event that no longer exists
    services.record("test.after")
    after = AuditEvent.objects.order_by("seq").last()
    assert after.seq == kept.seq + 1 and after.prev_hash == kept.hash
    assert services.verify().ok


@pytest.mark.django_db
def test_a_right_guess_writes_an_event_without_reading_the_head_first():
    services.record("test.warm")
    with CaptureQueriesContext(connection) as queries:
        services.record("test.guessed")
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("SAVEPOINT" in s for s in statements)
    # PostgreSQL: one statement; SQLite: the head's UPDATE ... RETURNING and the INSERT, under the
    # write lock its IMMEDIATE transaction holds (plus that transaction's BEGIN and COMMIT).
    written = [s for s in statements if s.split()[0] in ("WITH", "UPDATE", "INSERT", "SELECT")]
    assert len(written) == (1 if connection.vendor == "postgresql" else 2)
    assert services.verify().ok


@pytest.mark.django_db
def test_without_a_guess_the_head_is_read_under_its_lock():
    services.record("test.one")
    appending.forget()
    services.record("test.two")
    assert _seqs() == list(range(1, len(_seqs()) + 1))
    assert services.verify().ok
