"""SQLite's writers queue on a lock instead of sleeping in SQLite's busy handler
(``openmnr.web.sqlite``): every transaction gets in, in turn, between threads and processes;
a wait past the timeout is SQLite's own "database is locked"; the lock never outlives its
transaction."""

import subprocess
import sys
import threading

import pytest
from django.db import connection, transaction
from django.db.utils import OperationalError

from openmnr.web.sqlite.base import WriterLock

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's own lock")


HOLDER = """
import sys
from openmnr.web.sqlite.base import WriterLock
lock = WriterLock(sys.argv[1], timeout=5)
lock.acquire()
print("holding", flush=True)
sys.stdin.readline()
lock.release()
"""


def _holder(path):
    """Another process that holds the writer lock of ``path`` until its standard input is closed."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "holding"
    return child


def test_a_second_holder_waits_then_times_out_with_sqlites_own_error(tmp_path):
    first, second = WriterLock(str(tmp_path / "db"), 5), WriterLock(str(tmp_path / "db"), 0.2)
    first.acquire()
    with pytest.raises(OperationalError, match="database is locked"):
        second.acquire()
    first.release()
    second.acquire()  # free again: the failed wait left nothing held
    second.release()
    first.close()
    second.close()


def test_a_waiter_in_another_process_gets_the_lock_when_it_is_released(tmp_path):
    path = str(tmp_path / "db")
    child = _holder(path)
    try:
        got = threading.Event()
        waiter = WriterLock(path, timeout=10)
        thread = threading.Thread(target=lambda: (waiter.acquire(), got.set()))
        thread.start()
        assert not got.wait(0.3), "the lock was taken while another process held it"
        child.stdin.close()
        assert got.wait(10), "the waiter did not get the lock after the other process released it"
        thread.join()
        waiter.close()
    finally:
        child.kill()
        child.wait(10)


def test_a_killed_holder_frees_the_lock(tmp_path):
    path = str(tmp_path / "db")
    child = _holder(path)
    child.kill()
    child.wait(10)
    waiter = WriterLock(path, timeout=10)
    waiter.acquire()
    waiter.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_all_commit_and_release_the_lock():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS writers_probe (n INTEGER NOT NULL)")
        cursor.execute("DELETE FROM writers_probe")
    errors = []

    def work():
        from django.db import connection as own

        try:
            for _ in range(15):
                with transaction.atomic():
                    with own.cursor() as cursor:
                        cursor.execute("INSERT INTO writers_probe (n) VALUES (1)")
            assert own._writer_lock is None or own._writer_lock._held is None
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))
        finally:
            own.close()

    threads = [threading.Thread(target=work) for _ in range(6)]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    assert errors == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM writers_probe")
        assert cursor.fetchone()[0] == 90
        cursor.execute("DROP TABLE writers_probe")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_releases_the_lock():
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            connection.cursor().execute("SELECT 1")
            assert connection._writer_lock._held is not None
            raise RuntimeError("refused")
    assert connection._writer_lock._held is None
    other = WriterLock(str(connection.settings_dict["NAME"]), timeout=0.2)
    other.acquire()  # would raise "database is locked" if the rollback had kept it
    other.close()
