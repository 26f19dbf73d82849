"""Group commit: the writes of several request threads in one transaction and one commit.

A durable commit waits for the disk (milliseconds on a virtual machine), and every audited write
holds the audit chain's head row until it commits. One report per transaction therefore caps
intake at a few hundred reports a second, however many cores there are. Here, threads that arrive
while a batch is committing queue up; the first of them to find the committer free runs the whole
queue in one transaction - each piece of work in its own savepoint, so one failure undoes only its
own writes - and one commit. Each thread gets its result, or its error, only after that commit, so
an acknowledged report is still a committed one.

Work runs on the committing thread's database connection, so it must take everything it needs as
arguments (the request included) and not rely on thread-local state.
"""

import threading
from collections.abc import Callable

from django.db import transaction


class _Job:
    def __init__(self, work: Callable):
        self.work = work
        self.finished = False
        self.result = None
        self.error: BaseException | None = None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Runs callables in shared transactions; see the module docstring."""

    def __init__(self, max_batch: int = 64):
        self.max_batch = max_batch
        self._changed = threading.Condition()
        self._pending: list[_Job] = []
        self._committing = False

    def run(self, work: Callable):
        """Run ``work()`` in a transaction that has committed when this returns; return its result
        or raise its error. Inside a transaction of the caller's own, ``work`` simply runs in it."""
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return work()
        job = _Job(work)
        with self._changed:
            self._pending.append(job)
            while self._committing and not job.finished:
                self._changed.wait()
            if job.finished:
                return job.outcome()
            self._committing = True
        try:
            while not job.finished:
                with self._changed:
                    batch = self._pending[: self.max_batch]
                    del self._pending[: len(batch)]
                self._commit(batch)
        finally:
            with self._changed:
                self._committing = False
                self._changed.notify_all()
        return job.outcome()

    def _commit(self, batch: list[_Job]) -> None:
        outcomes = []
        try:
            with transaction.atomic():
                for job in batch:
                    try:
                        with transaction.atomic():
                            outcomes.append((job, job.work(), None))
                    except Exception as error:
                        outcomes.append((job, None, error))
        except BaseException as error:
            # The commit failed, so nothing of the batch was written: every job gets the error.
            self._finish([(job, None, error) for job in batch])
            if not isinstance(error, Exception):
                raise
            return
        self._finish(outcomes)

    def _finish(self, outcomes) -> None:
        with self._changed:
            for job, result, error in outcomes:
                job.result, job.error, job.finished = result, error, True
            self._changed.notify_all()
