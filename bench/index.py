"""PDQ match index benchmark: openmnr's PDQIndex against faiss and ThreatExchange, same data, same run.

    .venv/bin/python bench/index.py              # 1M hashes (a few minutes)
    .venv/bin/python bench/index.py --size 10m   # 10M hashes (needs ~12 GB free with every system)

Data: random 256-bit hashes, 1% of them near-duplicates (1-31 bits) of others. Queries: copies of
stored hashes with 0-31 bits flipped, and as many random hashes. Radius 31 (distance <= 31).

Each system runs in its own forked process, so its memory is measured alone (RSS after build minus
RSS before, input data already in memory). Per system: build time, memory, p50 and p99 wall time of
single queries on one core, batched queries per second on two cores, and recall against a numpy
brute-force scan over a sample of the queries (a result that is not within the radius would count
as an error). Systems:

- openmnr: ``PDQIndex.build``; batches run in two forked worker processes (numpy holds the GIL
  between its steps, so processes, not threads: the deployment shape, where each worker process
  maps the same snapshot file). ``openmnr (loaded)`` maps the file the first row saved and queries
  it cold: its build column is the load time and its memory the pages touched by its queries.
- faiss IndexBinaryFlat: exhaustive scan; one OpenMP thread for single queries, two for batches.
- faiss IndexBinaryMultiHash: 16 tables of 16 bits with nflip=1, the exact setting for radius 31.
- ThreatExchange PDQIndex (threatexchange.signal_type.pdq.pdq_index): what ``threatexchange match``
  uses; IndexBinaryMultiHash with nflip=0, so it misses some matches beyond 15 bits. Batches run in
  two forked processes, one query at a time (its public interface).

Prints one table and writes bench/results/index.json.
"""

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import psutil

from openmnr.core.index import PDQIndex

RADIUS = 31
RESULTS = Path(__file__).resolve().parent / "results"
SIZES = {"1m": 1_000_000, "10m": 10_000_000}
FORK = multiprocessing.get_context("fork")


def flip_bits(rng, hashes, counts):
    """Copies of ``hashes`` with counts[i] distinct random bits of row i flipped."""
    ranks = rng.random((len(hashes), 256)).argsort(axis=1).argsort(axis=1)
    return hashes ^ np.packbits(ranks < counts[:, None], axis=1)


def make_hashes(n, seed=1):
    """n random hashes, the first 1% replaced by near-duplicates (1-31 bits) of others."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    planted = n // 100
    hashes[:planted] = flip_bits(rng, hashes[rng.integers(planted, n, planted)], rng.integers(1, 32, planted))
    return hashes


def make_queries(hashes, count, seed):
    """Alternately a stored hash with 0-31 bits flipped and a random hash."""
    rng = np.random.default_rng(seed)
    near = count // 2
    queries = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    queries[0::2][:near] = flip_bits(rng, hashes[rng.integers(0, len(hashes), near)], np.arange(near) % 32)
    return queries


def brute_force(hashes, query):
    words = hashes.view("<u8")
    distance = np.zeros(len(hashes), np.uint16)
    for w in range(4):
        distance += np.bitwise_count(words[:, w] ^ query.view("<u8")[w])
    return set(np.flatnonzero(distance <= RADIUS).tolist())


# Each system: build(hashes); query(one uint8 row) -> ids; batch(queries) -> seconds taken on two cores.


class OpenMNR:
    name = "openmnr PDQIndex"

    def build(self, hashes):
        self.index = PDQIndex.build(hashes, np.arange(len(hashes)))

    def query(self, query):
        return self.index.query(query, RADIUS).ids

    def batch(self, queries):
        return _two_processes(self, queries)

    def batch_part(self, queries):
        for start in range(0, len(queries), 256):
            self.index.query_batch(queries[start : start + 256], RADIUS)


class OpenMNRLoaded(OpenMNR):
    name = "openmnr PDQIndex (loaded, mmap)"

    def __init__(self, path):
        self.path = path

    def build(self, hashes):
        self.index = PDQIndex.load(self.path)


class FaissFlat:
    name = "faiss IndexBinaryFlat"

    def make(self):
        return faiss.IndexBinaryFlat(256)

    def build(self, hashes):
        self.index = self.make()
        self.index.add(hashes)

    def query(self, query):
        faiss.omp_set_num_threads(1)
        limits, _, labels = self.index.range_search(query[None], RADIUS + 1)  # faiss: distance < radius
        return labels

    def batch(self, queries):
        faiss.omp_set_num_threads(2)
        start = time.perf_counter()
        self.index.range_search(queries, RADIUS + 1)
        return time.perf_counter() - start


class FaissMultiHash(FaissFlat):
    name = "faiss IndexBinaryMultiHash (16x16, nflip=1)"

    def make(self):
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.nflip = 1
        return index


class ThreatExchangePDQIndex:
    name = "ThreatExchange PDQIndex"

    def prepare(self, hashes):
        self.hex = [h.tobytes().hex() for h in hashes]

    def build(self, hashes):
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TEIndex

        faiss.omp_set_num_threads(1)  # forked workers below must not inherit an OpenMP pool
        self.index = TEIndex.build(zip(self.hex, range(len(self.hex)), strict=True))

    def query(self, query):
        return np.array([m.metadata for m in self.index.query(query.tobytes().hex())], np.int64)

    def batch(self, queries):
        return _two_processes(self, queries)

    def batch_part(self, queries):
        for query in queries:
            self.query(query)


_worker_system = None


def _work(queries):
    _worker_system.batch_part(queries)


def _two_processes(system, queries):
    """Run system.batch_part on two halves of the queries in two forked processes; wall time only."""
    global _worker_system
    _worker_system = system
    with FORK.Pool(2) as pool:
        pool.map(_work, [queries[:1], queries[1:2]])  # both workers started and warm
        start = time.perf_counter()
        pool.map(_work, [queries[0::2], queries[1::2]], chunksize=1)
        return time.perf_counter() - start


def measure(system, hashes, queries, batch_queries, truth, extra, conn):
    """Runs in a forked child; sends back one result row."""
    process = psutil.Process()
    if hasattr(system, "prepare"):
        system.prepare(hashes)
    rss = process.memory_info().rss
    start = time.perf_counter()
    system.build(hashes)
    row = {"system": system.name, "build_s": time.perf_counter() - start}
    for query in queries[:20]:
        system.query(query)
    latencies, found = [], {}
    for i, query in enumerate(queries):
        start = time.perf_counter()
        ids = system.query(query)
        latencies.append(time.perf_counter() - start)
        if i in truth:
            found[i] = set(np.asarray(ids).tolist())
    row["memory_mib"] = (process.memory_info().rss - rss) / 2**20
    row["p50_ms"], row["p99_ms"] = (float(np.percentile(latencies, p)) * 1e3 for p in (50, 99))
    row["batch_qps"] = len(batch_queries) / system.batch(batch_queries)
    expected = sum(len(t) for t in truth.values())
    row["recall"] = sum(len(found[i] & truth[i]) for i in truth) / expected
    row["wrong_results"] = sum(len(found[i] - truth[i]) for i in truth)
    if extra:
        row.update(extra(system))
    conn.send(row)


def openmnr_extras(path):
    def extra(system):
        start = time.perf_counter()
        system.index.save(path)
        saved = time.perf_counter() - start
        rng = np.random.default_rng(7)
        new = rng.integers(0, 256, (10_000, 32), dtype=np.uint8)
        start = time.perf_counter()
        system.index.add(new, np.arange(10_000) + 2**40)
        added = time.perf_counter() - start
        return {"save_s": saved, "add_10k_s": added, "file_mib": os.path.getsize(path) / 2**20}

    return extra


def run(system, data, extra=None):
    parent, child = FORK.Pipe(duplex=False)
    process = FORK.Process(target=measure, args=(system, *data, extra, child))
    process.start()
    row = parent.recv()
    process.join()
    print(f"  {row['system']}: done", file=sys.stderr)
    return row


def table(rows):
    lines = [
        "| system | build (load) s | memory MiB | p50 ms | p99 ms | batch q/s, 2 cores | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        recall = f"{r['recall']:.4f}" + (f" ({r['wrong_results']} wrong)" if r["wrong_results"] else "")
        lines.append(
            f"| {r['system']} | {r['build_s']:.1f} | {r['memory_mib']:.0f} | {r['p50_ms']:.3f} "
            f"| {r['p99_ms']:.3f} | {r['batch_qps']:.0f} | {recall} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=SIZES, default="1m")
    parser.add_argument(
        "--queries", type=int, default=1000, help="single queries timed (half near, half random)"
    )
    parser.add_argument("--batch", type=int, default=8000, help="queries in the batched run")
    parser.add_argument("--sample", type=int, default=200, help="queries checked against brute force")
    parser.add_argument(
        "--systems",
        default="openmnr,loaded,faiss-flat,faiss-multihash,threatexchange",
        help="comma-separated",
    )
    args = parser.parse_args()
    n = SIZES[args.size]
    load_before = os.getloadavg()
    print(f"generating {n:,} hashes ...", file=sys.stderr)
    hashes = make_hashes(n)
    queries, batch_queries = make_queries(hashes, args.queries, 2), make_queries(hashes, args.batch, 3)
    print("brute force for the recall sample ...", file=sys.stderr)
    truth = {i: brute_force(hashes, queries[i]) for i in range(min(args.sample, len(queries)))}
    data = (hashes, queries, batch_queries, truth)

    wanted = args.systems.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pdq.index"
        if "openmnr" in wanted:
            rows.append(run(OpenMNR(), data, openmnr_extras(path)))
        if "loaded" in wanted and path.exists():
            rows.append(run(OpenMNRLoaded(path), data))
    for key, system in [
        ("faiss-flat", FaissFlat),
        ("faiss-multihash", FaissMultiHash),
        ("threatexchange", ThreatExchangePDQIndex),
    ]:
        if key in wanted:
            rows.append(run(system(), data))

    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
    }
    print(f"\nPDQ index, {n:,} hashes, radius {RADIUS}, {args.queries} single queries, {args.batch} batched")
    print(table(rows))
    for row in rows:
        if "add_10k_s" in row:
            print(
                f"\nopenmnr: adding 10,000 hashes {row['add_10k_s']:.3f} s; save {row['save_s']:.1f} s; "
                f"file {row['file_mib']:.0f} MiB"
            )
    print(f"load average before {load_before[0]:.2f}, after {machine['load_average_after'][0]:.2f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "index.json"
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[args.size] = {"size": n, "radius": RADIUS, "machine": machine, "rows": rows}
    out.write_text(json.dumps(existing, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
