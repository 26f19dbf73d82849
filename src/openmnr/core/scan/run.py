"""Driving a scan on Dask: list the sources, skip finished batches, run the rest, stream results.

The scan runs on Dask distributed, not on a pool of our own: a ``LocalCluster`` of worker
processes on this machine by default, or an existing cluster (``scheduler``: ``tcp://HOST:8786``)
whose workers have OpenMNR installed and can read the sources and the bundle at the same paths or
URLs. Dask brings what a home-made pool would have to grow: a worker that dies is replaced (a
``LocalCluster`` restarts it; on a cluster, the deployment's supervisor does) and its unfinished
tasks are rerun on the others; a task that keeps killing workers (``allowed-failures``, 3 by
default) fails with ``KilledWorker``, and its files are listed with the error ``worker_died``
rather than stopping the scan.

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
from .worker import Options, scan_batch

IN_FLIGHT_PER_WORKER = 3


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
    results: str = ""


def scan(
    source_list: Iterable[str],
    *,
    out: Path,
    bundle: Path,
    fmt: str = "parquet",
    scheduler: str | None = None,
    workers: int = 2,
    batch_files: int = 64,
    batch_bytes: int = 64 * 2**20,
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
    started = time.monotonic()
    summary = Summary()
    finished = output.finished()
    all_batches = list(
        sources.batches(sources.list_items(source_list), max_files=batch_files, max_bytes=batch_bytes)
    )
    todo = [batch for batch in all_batches if batch.id not in finished]
    summary.batches = len(all_batches)
    summary.skipped_batches = len(all_batches) - len(todo)
    summary.files = sum(len(batch.items) for batch in all_batches)

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
    )
    try:
        threads = max(1, sum(client.nthreads().values()))
        limit = threads * IN_FLIGHT_PER_WORKER
        pending = iter(todo)
        by_key = {}

        def submit(batch):
            future = client.submit(
                scan_batch, batch, str(bundle), options, key=f"scan-{batch.id}", pure=False
            )
            by_key[future.key] = batch
            return future

        running = as_completed([submit(batch) for batch in itertools.islice(pending, limit)])
        for future in running:
            batch = by_key.pop(future.key)
            try:
                rows = future.result()
            except (KilledWorker, FutureCancelledError) as exc:
                rows = [_worker_died(item, exc) for item in batch.items]
            future.release()
            entry = output.write_batch(batch.id, len(batch.items), rows)
            _count(summary, rows, entry)
            bar.update(len(batch.items))
            following = next(pending, None)
            if following is not None:
                running.add(submit(following))
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    unfinished = {batch.id for batch in all_batches} - set(output.finished())
    if unfinished:  # never expected: every batch is written or listed as failed above
        raise RuntimeError(f"{len(unfinished)} batches have no results; run the scan again to finish them")
    for entry in finished.values():
        summary.rows += entry["rows"]
        summary.matches += entry["matches"]
        summary.errors += entry["errors"]
    summary.results = str(output.merge())
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def warm_up(bundle: str) -> int:
    """Load the bundle in this worker process (and with it the signal types); return its banks."""
    from . import index

    return len(index.load(bundle).banks)


def _worker_died(item: sources.Item, exc: Exception) -> dict:
    from .worker import _error_row

    message = f"the batch with this file stopped every worker that ran it ({type(exc).__name__})"
    return _error_row(item.path, item.size, "worker_died", message)


def _count(summary: Summary, rows: list[dict], entry: dict) -> None:
    summary.rows += entry["rows"]
    summary.matches += entry["matches"]
    summary.errors += entry["errors"]
    for row in rows:
        if row["error_kind"]:
            summary.errors_by_kind[row["error_kind"]] = summary.errors_by_kind.get(row["error_kind"], 0) + 1
