"""Driving a scan on Dask: list the sources, skip finished batches, run the rest, stream results.

The scan runs on Dask distributed, not on a pool of our own: a ``LocalCluster`` of worker
processes on this machine by default, or an existing cluster (``scheduler``: ``tcp://HOST:8786``)
whose workers have OpenMNR installed and can read the sources and the bundle at the same paths or
URLs. Dask brings what a home-made pool would have to grow: a worker that dies is replaced (a
``LocalCluster`` restarts it; on a cluster, the deployment's supervisor does) and its unfinished
tasks are rerun on the others; a task that keeps killing workers (``allowed-failures``, 3 by
default) fails with ``KilledWorker``, and its files are listed with the error ``worker_died``
rather than stopping the scan.

A worker that sees the scan's folder (every worker of a local cluster; on a cluster, those that
mount it at the same path) writes each batch's rows to a part file itself and sends back only the
batch's counts: this process, which also runs a local cluster's scheduler, only submits batches
and appends the manifest's lines, and so takes little of the cores the workers hash on.

Only a bounded number of batches is in flight (``IN_FLIGHT_PER_WORKER`` per worker thread), so a
scan of millions of files keeps the scheduler's memory flat; the listing itself is held in memory
(about 200 bytes a file) to give the progress bar its total and ETA.
"""

import itertools
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import sources
from .results import Output
from .worker import Done, Options, scan_batch_part

IN_FLIGHT_PER_WORKER = 3
#: A batch (one task) is at most this many files and about this many MB: some 0.7 s of work for
#: small pictures (0.65 ms each for 64x64 PNGs of 12 KB) and 0.4 s for photographs of 60 KB (1.5
#: ms each), so Dask's cost per task (some 3 to 8 ms of CPU in the driver's scheduler and client,
#: which share the cores with the workers, and a few in the worker) is about 1% of it; a file
#: larger than the MB is a batch of its own (and costs more than a task's overhead). The last
#: batches are cut smaller (``sources.batches``), so the end of a scan waits less for them.
BATCH_FILES, BATCH_MB = 1024, 16
#: Finished batches are written together (one part, one flush of the manifest) once they hold this
#: many rows or the oldest has waited this long: few parts and fsyncs for a scan of small files,
#: and a kill loses at most a few seconds of finished work (scanned again on the next run).
FLUSH_ROWS, FLUSH_SECONDS = 8192, 2.0
#: Dask's own periodic work (the worker's profiler sampling the running task every 10 ms, the
#: system monitor every 0.5 s, the memory monitor every 0.1 s, the event loop's tick every 20 ms,
#: in the driver's scheduler and nannies and in every worker)
#: took about 4% of a core in an idle local cluster's driver alone, 1% with these intervals: the
#: scan's processes share the cores with it. The memory limit is still enforced twice a second.
#: Work stealing is off for the local cluster's scheduler: the scan's tasks are alike and only a
#: few per worker are in flight, so there is nothing to rebalance, and the stealing extension
#: costs the scheduler (in the driver's process) its bookkeeping at every task's transition and a
#: pass over the workers every second. (A cluster's own scheduler keeps its own settings.)
QUIET = {
    "distributed.worker.profile.enabled": False,  # a sample of the task's stack every 10 ms
    "distributed.admin.system-monitor.gil.enabled": False,  # a GIL probe every ms, when installed
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.admin.tick.interval": "200ms",
    "distributed.scheduler.work-stealing": False,
    "distributed.client.scheduler-info-interval": "10s",  # the client's copy of the workers' list
}


@dataclass
class Summary:
    files: int = 0
    batches: int = 0
    skipped_batches: int = 0
    rows: int = 0
    matches: int = 0
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    startup_seconds: float = 0.0  # listing the sources and starting or reaching the cluster
    listing_cpu_seconds: float = 0.0  # this process's CPU for listing the sources and cutting batches
    results: str = ""


def scan(source_list: Iterable[str], **arguments) -> Summary:
    """Scan every file of `source_list` into `out`, Dask's periodic work slowed (``QUIET``)."""
    import dask
    import distributed  # noqa: F401 (its defaults loaded first, or setting these hides them)

    with dask.config.set(QUIET):
        return _scan(source_list, **arguments)


def _scan(
    source_list: Iterable[str],
    *,
    out: Path,
    bundle: Path,
    fmt: str = "parquet",
    scheduler: str | None = None,
    workers: int = 2,
    batch_files: int = BATCH_FILES,
    batch_bytes: int = BATCH_MB * 2**20,
    options: Options | None = None,
    progress: bool = True,
) -> Summary:
    """Scan every file of `source_list` into `out`; see the module docstring."""
    from distributed import Client, LocalCluster, as_completed
    from distributed.client import FutureCancelledError

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - older layouts
        from distributed import KilledWorker

    options = options or Options()
    output = Output(out, fmt)
    started, listing_cpu = time.monotonic(), time.process_time()
    summary = Summary()
    all_batches = list(
        sources.batches(sources.list_items(source_list), max_files=batch_files, max_bytes=batch_bytes)
    )
    current = {batch.id for batch in all_batches}
    finished = output.finished(current)
    todo = [batch for batch in all_batches if batch.id not in finished]
    summary.batches = len(all_batches)
    summary.skipped_batches = len(all_batches) - len(todo)
    summary.files = sum(len(batch.items) for batch in all_batches)
    summary.listing_cpu_seconds = round(time.process_time() - listing_cpu, 3)

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # Its small HTTP server (health, metrics) on any free port: not 8787, which another
            # cluster on the host may hold (a warning on the scan's terminal otherwise).
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=40,
        )
        client = Client(cluster)
    # Each worker imports the hashing code and maps the bundle now, not inside its first task (a
    # worker that joins later, or replaces a dead one, does it in its first task).
    client.run(warm_up, str(bundle))
    summary.startup_seconds = round(time.monotonic() - started, 2)
    bar = tqdm(
        total=summary.files,
        initial=sum(len(b.items) for b in all_batches if b.id in finished),
        unit="file",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,  # redrawn twice a second, not ten times
    )
    try:
        threads = max(1, sum(client.nthreads().values()))
        limit = threads * IN_FLIGHT_PER_WORKER
        pending = iter(todo)
        by_key = {}
        folder = str(output.folder.resolve())  # where the workers that see it write the parts

        def submit(batch):
            future = client.submit(
                scan_batch_part,
                batch,
                str(bundle),
                options,
                folder,
                output.scan_id,
                key=f"scan-{batch.id}",
                pure=False,
            )
            by_key[future.key] = batch
            return future

        running = as_completed([submit(batch) for batch in itertools.islice(pending, limit)])
        waiting: list[Done] = []
        oldest = 0.0
        for future in running:
            batch = by_key.pop(future.key)
            try:
                done = future.result()
            except (KilledWorker, FutureCancelledError) as exc:
                done = _worker_died(batch, exc)
            future.release()
            if not waiting:
                oldest = time.monotonic()
            waiting.append(done)
            bar.update(done.files)
            following = next(pending, None)
            if following is not None:
                running.add(submit(following))
            if sum(d.rows for d in waiting) >= FLUSH_ROWS or time.monotonic() - oldest >= FLUSH_SECONDS:
                _write(output, waiting, summary)
                waiting = []
        _write(output, waiting, summary)
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    unfinished = current - set(output.finished(current))
    if unfinished:  # never expected: every batch is written or listed as failed above
        raise RuntimeError(f"{len(unfinished)} batches have no results; run the scan again to finish them")
    for entry in finished.values():
        summary.rows += entry["rows"]
        summary.matches += entry["matches"]
        summary.errors += entry["errors"]
    summary.results = str(output.merge(current))
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def warm_up(bundle: str) -> int:
    """Load the bundle in this worker process (and with it the signal types); return its banks."""
    from . import index

    return len(index.load(bundle).banks)


def _worker_died(batch: sources.Batch, exc: Exception) -> Done:
    from .results import table_of
    from .worker import _error_row

    message = f"the batch with this file stopped every worker that ran it ({type(exc).__name__})"
    rows = [_error_row(item.path, item.size, "worker_died", message) for item in batch.items]
    return Done(batch.id, len(batch.items), table_of(rows), len(rows), 0, {"worker_died": len(rows)})


def _write(output: Output, done: list[Done], summary: Summary) -> None:
    """Write finished batches together and count them (see ``Output.write_batches``)."""
    output.write_batches(done)
    for d in done:
        summary.rows += d.rows
        summary.matches += d.matches
        summary.errors += sum(d.errors_by_kind.values())
        for kind, count in d.errors_by_kind.items():
            summary.errors_by_kind[kind] = summary.errors_by_kind.get(kind, 0) + count
