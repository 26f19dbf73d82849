"""URL list benchmark: what a licensee's client costs with 1M listed entries, what the list costs on
the wire, and how many private confirmations the server answers, against a plain set of full
SHA-256 hashes as the anchor.

    .venv/bin/python bench/urllist.py [--entries 1000000] [--checks 200000] [--urls 100000] [--processes 2]

Everything runs on ``openmnr.core.urllist`` (no database), in one process on one core unless a
row says "2 cores". Rows:

- memory of the client's index: the anchor (a Python set of 1M 32-byte digests), a Python set of
  4-byte prefixes as ints, and a sorted numpy uint32 array (tracemalloc, after a collect);
- prefix checks per second for hashes already computed (the hot path of a resolver): the anchor's
  ``digest in set``, ``int in set`` one at a time, numpy ``searchsorted`` one at a time, and
  ``searchsorted`` over a batch of all the checks at once;
- whole URL checks per second through the reference client: Safe Browsing canonicalisation (the
  fast path for URLs already canonical, and for comparison the full canonicaliser alone), the
  host-suffix/path-prefix expressions (up to 30 per URL), their SHA-256, and the prefix test; one
  URL at a time (``candidates``), as a batch (``local_many``, what ``check_many`` runs before it
  confirms the few hits), and with ``--processes 2`` the batch split over two forked processes
  (the table says "2 cores" on that row);
- the share of unlisted URLs that reach the server (prefix false positives);
- the signed snapshot and a 1% diff in bytes (JSON, and gzip as HTTP would send it), with the time
  to build and sign them;
- the server's confirmations per second: the blinded VOPRF evaluation of one element, its DLEQ
  proof, and the output of one listed entry in the bucket (the usual bucket size), and the
  client's blind + proof verification + finalize.

Prints one table with the load average (the machine is shared: read ratios, not absolutes) and
writes bench/results/urllist.json.
"""

import argparse
import gc
import gzip
import hashlib
import json
import os
import platform
import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.urllist import expressions as expressions_module
from openmnr.core.urllist import listformat, oprf
from openmnr.core.urllist.client import PrefixIndex, UrlListClient

RESULTS = Path(__file__).resolve().parent / "results"


def measure_memory(build):
    gc.collect()
    tracemalloc.start()
    value = build()
    gc.collect()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, size


def rate(n: int, action) -> tuple[float, float]:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return n / seconds, seconds


_WORKER_CLIENT = None


def _worker_hits(chunk: list[str]) -> list[int]:
    """In a forked worker: the positions in ``chunk`` of the URLs with a prefix hit."""
    return [i for i, found in enumerate(_WORKER_CLIENT.local_many(chunk)) if found]


def worker_pool(client, processes: int):
    """Forked processes that share the client's prefixes copy-on-write, started once (as a proxy
    would keep them), outside the measurement."""
    import multiprocessing

    global _WORKER_CLIENT
    _WORKER_CLIENT = client
    return multiprocessing.get_context("fork").Pool(processes)


def parallel_hits(pool, urls: list[str], processes: int) -> list[int]:
    """The batch split over the pool; only the positions of hits come back (usually none)."""
    size = -(-len(urls) // (processes * 4))
    chunks = [urls[i : i + size] for i in range(0, len(urls), size)]
    found = pool.map(_worker_hits, chunks)
    return [size * n + i for n, positions in enumerate(found) for i in positions]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=1, help="also run the batch over N forked processes")
    parser.add_argument("--confirmations", type=int, default=3_000)
    args = parser.parse_args()
    rng = random.Random(19)
    rows: list[tuple[str, str, str]] = []

    def note(name, value, unit):
        rows.append((name, value, unit))
        print(f"  {name}: {value} {unit}", file=sys.stderr)

    # The list: full hashes of 1M expressions (random digests stand in; SHA-256 output is uniform).
    digests = [rng.randbytes(32) for _ in range(args.entries)]
    prefixes = [d[:4] for d in digests]

    # The anchor's digests are copied inside the measurement, so their objects count as the ints do.
    full_set, full_bytes = measure_memory(lambda: {bytes(bytearray(d)) for d in digests})
    int_set, int_bytes = measure_memory(lambda: {int.from_bytes(p, "big") for p in prefixes})
    index, array_bytes = measure_memory(lambda: PrefixIndex(prefixes))
    note("memory, set of full SHA-256 (anchor)", f"{full_bytes / 2**20:.1f}", "MiB")
    note("memory, set of 4-byte prefixes as int", f"{int_bytes / 2**20:.1f}", "MiB")
    note("memory, sorted numpy uint32 array", f"{array_bytes / 2**20:.1f}", "MiB")

    # Checks: 1% listed, 99% not, hashes computed beforehand.
    queries = [rng.choice(digests) if rng.random() < 0.01 else rng.randbytes(32) for _ in range(args.checks)]
    query_ints = [int.from_bytes(q[:4], "big") for q in queries]
    query_array = np.frombuffer(b"".join(q[:4] for q in queries), dtype=">u4").astype(np.uint32)

    def anchor():
        return sum(q in full_set for q in queries)

    def int_lookup():
        return sum((int.from_bytes(q[:4], "big") in int_set) for q in queries)

    single = index.array

    def numpy_single():
        hits = 0
        length = len(single)
        for value in query_ints[: args.checks // 10]:
            at = int(np.searchsorted(single, np.uint32(value)))
            hits += at < length and int(single[at]) == value
        return hits

    per_s, _ = rate(args.checks, anchor)
    note("checks/s, set of full SHA-256 (anchor)", f"{per_s:,.0f}", "checks/s")
    per_s, _ = rate(args.checks, int_lookup)
    note("checks/s, prefix int in set", f"{per_s:,.0f}", "checks/s")
    per_s, _ = rate(args.checks // 10, numpy_single)
    note("checks/s, numpy searchsorted one at a time", f"{per_s:,.0f}", "checks/s")
    per_s, _ = rate(args.checks, lambda: index.contains(query_array).sum())
    note("checks/s, numpy searchsorted in one batch", f"{per_s:,.0f}", "checks/s")
    assert anchor() <= int_lookup() == int(index.contains(query_array).sum())

    # Whole URLs through the reference client (no server: candidates only).
    client = UrlListClient(None, None)
    client._set = int_set
    hosts = [f"{rng.choice(['www.', 'cdn.', ''])}site{rng.randrange(10**6)}.example" for _ in range(1000)]
    urls = [
        f"https://{rng.choice(hosts)}/{'/'.join(f'd{rng.randrange(100)}' for _ in range(rng.randrange(4)))}"
        f"/page{rng.randrange(10**4)}.html" + (f"?id={rng.randrange(10**6)}" if rng.random() < 0.5 else "")
        for _ in range(args.urls)
    ]
    hits = []
    per_s, _ = rate(args.urls, lambda: hits.extend(len(client.candidates(u)) > 0 for u in urls))
    note(
        "whole URL checks/s, one at a time (canonicalise, expressions, SHA-256, prefix)",
        f"{per_s:,.0f}",
        "URLs/s",
    )
    batch = []
    per_s, _ = rate(args.urls, lambda: batch.extend(client.local_many(urls)))
    note("whole URL checks/s, batch (local_many / check_many's local step)", f"{per_s:,.0f}", "URLs/s")
    assert [bool(h) for h in batch] == hits
    slow = expressions_module._fast_split
    expressions_module._fast_split = lambda url: None  # the full canonicaliser for every URL
    try:
        per_s, _ = rate(args.urls // 5, lambda: client.local_many(urls[: args.urls // 5]))
    finally:
        expressions_module._fast_split = slow
    note("whole URL checks/s, batch without the fast path (full canonicaliser)", f"{per_s:,.0f}", "URLs/s")
    if args.processes > 1:
        with worker_pool(client, args.processes) as pool:
            assert parallel_hits(pool, urls[:100], args.processes) == [i for i in range(100) if hits[i]]
            per_s, _ = rate(args.urls, lambda: parallel_hits(pool, urls, args.processes))
        note(
            f"whole URL checks/s, batch over {args.processes} forked processes ({args.processes} cores)",
            f"{per_s:,.0f}",
            "URLs/s",
        )
    note(
        "unlisted URLs that reach the server (prefix false positives)",
        f"{100 * sum(hits) / len(hits):.2f}",
        "%",
    )

    # The list on the wire.
    key = Ed25519PrivateKey.generate()
    old = set(prefixes)
    churn = args.entries // 100
    new = (old - set(prefixes[:churn])) | {rng.randbytes(4) for _ in range(churn)}
    document, seconds = None, 0.0
    started = time.perf_counter()
    document = listformat.sign(
        listformat.snapshot_payload("bench", 1, old, prefix_bytes=4, min_wait=1800, generated_at="t"), key
    )
    seconds = time.perf_counter() - started
    snapshot_json = json.dumps(document).encode()
    note("snapshot, 1M prefixes, signed JSON", f"{len(snapshot_json) / 2**20:.2f}", "MiB")
    note("snapshot, gzip", f"{len(gzip.compress(snapshot_json, 6)) / 2**20:.2f}", "MiB")
    note("snapshot, build and sign", f"{seconds:.2f}", "s")
    started = time.perf_counter()
    diff = listformat.sign(
        listformat.diff_payload("bench", 1, old, 2, new, prefix_bytes=4, min_wait=1800, generated_at="t"), key
    )
    seconds = time.perf_counter() - started
    diff_json = json.dumps(diff).encode()
    note(f"diff, 1% churn ({churn:,} out, {churn:,} in), signed JSON", f"{len(diff_json) / 2**10:.0f}", "KiB")
    note("diff, gzip", f"{len(gzip.compress(diff_json, 6)) / 2**10:.0f}", "KiB")
    note("diff, build and sign", f"{seconds:.2f}", "s")
    state = listformat.apply(listformat.ListState("bench"), document["payload"])
    per_s, seconds = rate(1, lambda: listformat.apply(state, diff["payload"]))
    note("diff, verify checksum and apply on the client", f"{seconds:.2f}", "s")

    # Private confirmation.
    server_key = oprf.derive_key(os.urandom(32))
    expressions = [f"site{n}.example/page.html" for n in range(args.confirmations)]
    blinded = [oprf.blind(e) for e in expressions]

    def serve(e, b):
        z = oprf.evaluate(server_key, b)
        return z, oprf.prove(server_key, [b], [z]), oprf.evaluate_entry(server_key, e)

    per_s, _ = rate(
        args.confirmations, lambda: [serve(e, b) for e, (_, b) in zip(expressions, blinded, strict=True)]
    )
    note("server confirmations/s, VOPRF (evaluate + DLEQ proof + one bucket entry)", f"{per_s:,.0f}", "per s")
    bucket_index = {hashlib.sha256(e.encode()).digest()[:4]: e for e in expressions}
    per_s, _ = rate(
        args.confirmations * 100,
        lambda: [bucket_index.get(hashlib.sha256(e.encode()).digest()[:4]) for e in expressions * 100],
    )
    note("server confirmations/s, full hashes (in-memory bucket lookup)", f"{per_s:,.0f}", "per s")
    public = oprf.public_key(server_key)
    rounds = [oprf.blind(e) for e in expressions]
    evaluated = [oprf.evaluate(server_key, b) for _, b in rounds]
    proofs = [oprf.prove(server_key, [b], [z]) for (_, b), z in zip(rounds, evaluated, strict=True)]
    per_s, _ = rate(
        args.confirmations,
        lambda: [
            (oprf.blind(e), oprf.finalize(e, r, z))
            for e, (r, _), z in zip(expressions, rounds, evaluated, strict=True)
        ],
    )
    note("client blind + finalize/s", f"{per_s:,.0f}", "per s")
    per_s, _ = rate(
        args.confirmations,
        lambda: [
            oprf.verify_proof(public, [b], [z], proof)
            for (_, b), z, proof in zip(rounds, evaluated, proofs, strict=True)
        ],
    )
    note("client DLEQ proof verifications/s", f"{per_s:,.0f}", "per s")

    load = os.getloadavg()
    print(
        f"URL list, {args.entries:,} entries, {args.checks:,} prefix checks, {args.urls:,} URLs; "
        f"Python {platform.python_version()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(shared machine: compare rows, not absolutes)"
    )
    print("| measure | value | unit |")
    print("|---|---:|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value} | {unit} |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "urllist.json").write_text(
        json.dumps({"load": load, "machine": platform.machine(), "rows": rows, "args": vars(args)}, indent=2)
    )


if __name__ == "__main__":
    main()
