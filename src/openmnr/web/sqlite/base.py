"""SQLite with its writers queued: Django's backend, plus a writer lock taken before ``BEGIN``.

SQLite lets one writer in at a time. A transaction that finds the write lock taken is left to
SQLite's busy handler, which sleeps and retries in growing steps (1, 2, 5, 10 ... up to 100 ms
a try) until ``timeout``: it never wakes when the lock is freed, only when its sleep ends. Under
the industry intake's load (8 clients, 2 gunicorn workers x 4 threads, every request a short
write transaction) the waiters slept through most of the time the lock was free: the server
used about 1.35 of its 2 cores with a p99 of 0.8-1.5 s (decision 0037 has the measurements).

Here every transaction of a file database first takes a writer lock, and releases it when the
transaction ends (commit, rollback, the connection closed). The lock has two parts:

- **between the threads of a process**, a ``threading.Lock`` per database file: a waiting thread
  blocks in the kernel and is woken the moment the holder releases (no polling, no sleep steps);
- **between processes** (gunicorn's workers, the task worker, a command), ``flock`` on a file
  beside the database (``<name>.writers``), held by the one thread of each process that holds its
  process's lock. Only that one thread per process waits for it, and it polls every millisecond
  rather than in SQLite's growing steps, so a process waiting for another's commit gets the lock
  within about a millisecond of its release. The kernel releases an ``flock`` when its process
  dies, so a killed worker cannot leave the lock held.

Invariants: a transaction holds the lock from before its ``BEGIN IMMEDIATE`` to after its
``COMMIT`` or ``ROLLBACK``, so two holders never race for SQLite's own lock, and nothing about
what is committed changes (same transactions, same statements, ``synchronous=FULL``). A wait
longer than the database's ``timeout`` raises the same ``OperationalError("database is locked")``
that SQLite raises, so callers see no new error. Statements outside a transaction (autocommit)
still meet SQLite's own lock and busy handler: the lock only orders transactions.

Trade-off: every transaction, a read-only one too, takes the writer lock, as ``BEGIN IMMEDIATE``
already made it take SQLite's write lock (settings: ``transaction_mode``); reads outside a
transaction do not. An in-memory database (one connection, no other writer) is left as Django has
it. Written here rather than taken from a library: no maintained package offers a queued writer
lock for Django's SQLite backend.
"""

import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

POLL_SECONDS = 0.001

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _reset_after_fork() -> None:
    """A forked child holds none of its parent's locks: it starts with fresh ones."""
    global _process_locks_guard
    _process_locks.clear()
    _process_locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


class WriterLock:
    """One connection's hold on the writer lock of one database file (see the module's text)."""

    def __init__(self, database: str, timeout: float):
        self.path = f"{database}.writers"
        self.timeout = timeout
        self._fd: int | None = None
        self._held: threading.Lock | None = None

    def acquire(self) -> None:
        if self._held is not None:
            return
        deadline = time.monotonic() + self.timeout
        process_lock = _process_lock(self.path)
        if not process_lock.acquire(timeout=self.timeout):
            raise OperationalError("database is locked")
        try:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError("database is locked") from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            process_lock.release()
            raise
        self._held = process_lock

    def release(self) -> None:
        if self._held is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            held, self._held = self._held, None
            held.release()

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite backend; transactions take the writer lock first (the module's text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_lock: WriterLock | None = None

    def _writers(self) -> WriterLock | None:
        if self.is_in_memory_db():
            return None
        name = str(self.settings_dict["NAME"])
        if self._writer_lock is None or self._writer_lock.path != f"{name}.writers":
            if self._writer_lock is not None:
                self._writer_lock.close()
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
            self._writer_lock = WriterLock(name, timeout)
        return self._writer_lock

    def _release_writers(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _start_transaction_under_autocommit(self):
        writers = self._writers()
        if writers is not None:
            writers.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writers()
            raise

    def _ending(self, end):
        """``end`` (COMMIT or ROLLBACK), then the lock released once no transaction is open (a
        failed COMMIT leaves it open: the rollback that follows releases it)."""
        try:
            return end()
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._release_writers()

    def _commit(self):
        return self._ending(super()._commit)

    def _rollback(self):
        return self._ending(super()._rollback)

    def _close(self):
        try:
            return super()._close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.close()
