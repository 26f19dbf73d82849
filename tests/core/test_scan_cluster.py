"""Bulk scans on Dask for real: a scan killed mid-way continues where it stopped, and a scan on a
cluster of separate processes (a scheduler and two workers on 127.0.0.1) survives a worker killed
with SIGKILL. Each file is reported once."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scanbundle import make_bundle

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


@pytest.fixture
def corpus(shared) -> list[Path]:
    return sorted((shared / "corpus" / "natural").glob("*.jpg"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scan_command(out: Path, bundle: Path, source: Path, *extra: str) -> list[str]:
    return [
        str(BIN / "openmnr"),
        "scan",
        str(source),
        "--out",
        str(out),
        "--bundle",
        str(bundle),
        "--batch-files",
        "4",
        "--no-progress",
        *extra,
    ]


def _wait_for_batches(manifest: Path, count: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"the scan ended before {count} batches were finished")
        time.sleep(0.05)
    pytest.fail(f"{count} batches were not finished in {timeout} s")


def _check_results(out: Path, corpus: list[Path]) -> list[dict]:
    rows = pq.read_table(out / "results.parquet").to_pylist()
    paths = [row["path"] for row in rows]
    assert len(paths) == len(set(paths)), "a file was reported twice"
    assert set(paths) == {str(path) for path in corpus[0].parent.iterdir()}, "a file is missing"
    matched = {row["path"] for row in rows if row["match"]}
    assert matched == {str(path) for path in corpus[:3]}
    return rows


def test_a_killed_scan_continues_where_it_stopped(tmp_path, corpus):
    bundle = make_bundle(tmp_path / "b", corpus[:3], hidden=corpus[3:5])
    out = tmp_path / "out"
    command = _scan_command(out, bundle, corpus[0].parent, "--workers", "1")
    first = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for_batches(out / "manifest.jsonl", 3, first)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    done_before = len((out / "manifest.jsonl").read_text().splitlines())
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode in (0, 1), again.stderr[-2000:]
    summary = json.loads(again.stdout)
    assert summary["skipped_batches"] >= done_before >= 3
    assert summary["files"] == len(list(corpus[0].parent.iterdir()))
    _check_results(out, corpus)


def test_a_cluster_of_processes_survives_a_killed_worker(tmp_path, corpus):
    bundle = make_bundle(tmp_path / "b", corpus[:3], hidden=corpus[3:5])
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [
        subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        str(BIN / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                    ],
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        out = tmp_path / "out"
        scan = subprocess.Popen(
            _scan_command(out, bundle, corpus[0].parent, "--scheduler", address),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_batches(out / "manifest.jsonl", 2, scan)
        # kill -9 the worker process itself (its nanny starts a new one); the batches it held are redone.
        import psutil

        victims = psutil.Process(processes[1].pid).children(recursive=True)
        assert victims, "the dask worker runs under a nanny"
        for victim in victims:
            victim.kill()
        stdout, stderr = scan.communicate(timeout=600)
        assert scan.returncode in (0, 1), stderr[-2000:]
        summary = json.loads(stdout)
        assert summary["errors_by_kind"].get("worker_died") is None
        _check_results(out, corpus)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
