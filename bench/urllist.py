"""URL list benchmark: what a licensee's client costs with 1M listed entries, what the list costs on
the wire, and how many private confirmations the server answers, against a plain set of full
SHA-256 hashes as the anchor.

    .venv/bin/python bench/urllist.py [--entries 1000000] [--checks 200000] [--urls 100000] [--processes 2]

Everything runs on ``openmnr.core.urllist`` (no database), in one process unless a column says
"2 processes". Rows:

- memory of the client's index: the anchor (a Python set of 1M 32-byte digests), the client's dict
  of 4-byte prefixes (``PrefixLookup``), and a sorted numpy uint32 array (tracemalloc, after a
  collect);
- prefix checks per second for hashes already computed (the hot path of a resolver): the anchor's
  ``digest in set``, ``prefix in set`` one at a time, numpy ``searchsorted`` one at a time, and
  ``searchsorted`` over a batch of all the checks at once;
- whole URL checks per second (the issue's number, a table of its own): Safe Browsing
  canonicalisation, the host-suffix/path-prefix expressions, their SHA-256 and the prefix test, on
  three kinds of traffic (``TRAFFIC``: repeated hosts with random directories, every URL on a host
  of its own, and site-like traffic); the anchor (``url_expressions``, every expression hashed,
  the full hash looked up in a set: what the client did before decision 0025), ours one URL at a
  time (``candidates``, its cache empty at the start of each traffic), and ours over
  ``--processes`` processes (this one and workers started by the fork server) (``local_many`` of a client made with ``processes=2``, in
  batches of 10,000). The three take turns on the same chunks; each is given by the wall clock
  and, in brackets, per CPU-second (the measuring process's, plus, for the two-process column,
  its worker's, read from /proc: the figure that does not depend on the machine's load);
- the share of unlisted URLs that reach the server (prefix false positives);
- the signed snapshot and a 1% diff in bytes (JSON, and gzip as HTTP would send it), with the time
  to build and sign them;
- the server's confirmations per second: the blinded VOPRF evaluation of one element, its DLEQ
  proof, and the output of one listed entry in the bucket (the usual bucket size), and the
  client's blind + proof verification + finalize.

Prints two tables with the load average before and after (the machine is shared: read ratios, not
absolutes) and writes bench/results/urllist.json.
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

from openmnr.core.urllist import listformat, oprf
from openmnr.core.urllist.client import PARALLEL_BATCH, PrefixIndex, UrlListClient
from openmnr.core.urllist.expressions import url_expressions
from openmnr.core.urllist.lookup import PrefixLookup

RESULTS = Path(__file__).resolve().parent / "results"


def measure_memory(build):
    gc.collect()
    tracemalloc.start()
    value = build()
    gc.collect()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, size


def workers_cpu(client) -> float:
    """CPU seconds used so far by a client's worker processes (Linux: /proc; 0 elsewhere)."""
    pool = getattr(client, "_pool", None)
    if pool is None:
        return 0.0
    total = 0.0
    for process in pool._pool._pool:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rate(n: int, action) -> tuple[float, float]:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return n / seconds, seconds


#: The traffic a proxy's client is measured on; every URL is new, only hosts and directories repeat.
TRAFFIC = {
    "repeated hosts": "1,000 hosts (uniform), 0-3 directories drawn from 100 per level, half with a query",
    "distinct hosts": "every URL on a host of its own: the cache never answers",
    "site-like": "1,000 hosts (Zipf-like, a few take most requests), 31 directories per host",
}


def traffic(kind: str, count: int, rng: random.Random) -> list[str]:
    """``count`` URLs of one kind of ``TRAFFIC``, all already in canonical form (as a proxy mostly sees)."""
    hosts = [f"{rng.choice(['www.', 'cdn.', ''])}site{rng.randrange(10**6)}.example" for _ in range(1000)]
    sections = ["static", "img", "news", "user"]
    site_dirs = ["/", *[f"/{s}/" for s in sections], "/static/js/", "/static/css/"]
    site_dirs += [f"/news/{year}/{month:02}/" for year in (2025, 2026) for month in range(1, 13)]
    urls = []
    for n in range(count):
        if kind == "distinct hosts":
            host = f"{rng.choice(['www.', 'cdn.', ''])}site{n}-{rng.randrange(10**6)}.example"
        elif kind == "site-like":
            host = hosts[min(int(rng.paretovariate(1.0)) - 1, len(hosts) - 1)]
        else:
            host = rng.choice(hosts)
        if kind == "site-like":
            directory = rng.choice(site_dirs)
        else:
            directory = "/" + "".join(f"d{rng.randrange(100)}/" for _ in range(rng.randrange(4)))
        query = f"?id={rng.randrange(10**6)}" if rng.random() < 0.5 else ""
        urls.append(f"https://{host}{directory}page{rng.randrange(10**4)}.html{query}")
    return urls


def whole_urls(args, rng: random.Random, prefixes: list[bytes], full_set: set[bytes]):
    """Whole URL checks on each kind of traffic: the anchor (every expression of ``url_expressions``
    hashed, the full hash looked up in a set), ours in one process (``candidates``, cache empty at
    the start), and ours over ``args.processes`` processes (``local_many`` of a client made
    with ``processes``). The three take turns on the same chunks of URLs, so they share the load."""
    sha256 = hashlib.sha256
    state = listformat.ListState("bench", 4, 1, sorted(prefixes), 1800, "")
    rows, false_positives = [], 0.0
    for kind in TRAFFIC:
        urls = traffic(kind, args.urls, rng)
        one = UrlListClient(None, None, state=state)
        many = UrlListClient(None, None, state=state, processes=args.processes)
        if args.processes > 1:  # the workers start before the clock does, as a proxy keeps them
            many.local_many(traffic("distinct hosts", PARALLEL_BATCH, random.Random(1)))
        check = PrefixLookup(prefixes)
        assert [check.reference(u) for u in urls[:2000]] == [check.candidates(u) for u in urls[:2000]]

        def anchor(chunk):
            return [any(sha256(e.encode()).digest() in full_set for e in url_expressions(u)) for u in chunk]

        def ours(chunk, one=one):
            return [bool(one.candidates(u)) for u in chunk]

        def ours_many(chunk, many=many):
            return [bool(found) for found in many.local_many(chunk)]

        ways = (
            {"anchor": anchor, "ours": ours, "many": ours_many}
            if args.processes > 1
            else {"anchor": anchor, "ours": ours}
        )
        wall = dict.fromkeys(ways, 0.0)
        cpu = dict.fromkeys(ways, 0.0)
        hits = 0
        size = max(PARALLEL_BATCH, 10_000)
        for turn, start in enumerate(range(0, len(urls), size)):
            chunk = urls[start : start + size]
            names = list(ways)
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                started, cpu_started = time.perf_counter(), time.process_time() + workers_cpu(many)
                found = ways[name](chunk)
                wall[name] += time.perf_counter() - started
                cpu[name] += time.process_time() + workers_cpu(many) - cpu_started
                if name == "ours":
                    hits += sum(found)
        many.close()
        if kind == "repeated hosts":
            false_positives = hits / len(urls)
        rows.append(
            (
                kind,
                {
                    name: (len(urls) / wall[name], len(urls) / cpu[name] if cpu[name] > 0 else None)
                    for name in ways
                },
            )
        )
    return rows, false_positives


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200_000)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also run batches over N processes (this one and N-1 workers)",
    )
    parser.add_argument("--confirmations", type=int, default=3_000)
    args = parser.parse_args()
    rng = random.Random(19)
    rows: list[tuple[str, str, str]] = []
    load = os.getloadavg()

    def note(name, value, unit):
        rows.append((name, value, unit))
        print(f"  {name}: {value} {unit}", file=sys.stderr)

    # The list: full hashes of 1M expressions (random digests stand in; SHA-256 output is uniform).
    digests = [rng.randbytes(32) for _ in range(args.entries)]
    prefixes = [d[:4] for d in digests]

    # Digests and prefixes are copied inside the measurement, so that their objects count.
    full_set, full_bytes = measure_memory(lambda: {bytes(bytearray(d)) for d in digests})
    lookup, lookup_bytes = measure_memory(lambda: PrefixLookup([bytes(bytearray(p)) for p in prefixes]))
    index, array_bytes = measure_memory(lambda: PrefixIndex(prefixes))
    note("memory, set of full SHA-256 (anchor)", f"{full_bytes / 2**20:.1f}", "MiB")
    note(
        "memory, 4-byte prefixes in a dict (the client's PrefixLookup)", f"{lookup_bytes / 2**20:.1f}", "MiB"
    )
    note("memory, sorted numpy uint32 array", f"{array_bytes / 2**20:.1f}", "MiB")

    # Checks: 1% listed, 99% not, hashes computed beforehand.
    queries = [rng.choice(digests) if rng.random() < 0.01 else rng.randbytes(32) for _ in range(args.checks)]
    query_ints = [int.from_bytes(q[:4], "big") for q in queries]
    query_array = np.frombuffer(b"".join(q[:4] for q in queries), dtype=">u4").astype(np.uint32)
    prefix_set = lookup.prefixes

    def anchor():
        return sum(q in full_set for q in queries)

    def prefix_lookup():
        return sum(q[:4] in prefix_set for q in queries)

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
    per_s, _ = rate(args.checks, prefix_lookup)
    note("checks/s, 4-byte prefix in the client's dict", f"{per_s:,.0f}", "checks/s")
    per_s, _ = rate(args.checks // 10, numpy_single)
    note("checks/s, numpy searchsorted one at a time", f"{per_s:,.0f}", "checks/s")
    per_s, _ = rate(args.checks, lambda: index.contains(query_array).sum())
    note("checks/s, numpy searchsorted in one batch", f"{per_s:,.0f}", "checks/s")
    assert anchor() <= prefix_lookup() == int(index.contains(query_array).sum())

    url_rows, false_positives = whole_urls(args, rng, prefixes, full_set)
    note("unlisted URLs that reach the server (prefix false positives)", f"{100 * false_positives:.2f}", "%")

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

    load_before, load = load, os.getloadavg()
    print(
        f"URL list, {args.entries:,} entries, {args.checks:,} prefix checks, {args.urls:,} URLs per traffic; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, "
        f"{load[0]:.2f} after (shared machine: compare rows, not absolutes)"
    )
    print("| measure | value | unit |")
    print("|---|---:|---|")
    for name, value, unit in rows:
        print(f"| {name} | {value} | {unit} |")
    print()
    print(
        "Whole URL checks (the issue's number): URLs/s by the wall clock, and in brackets per CPU-second of "
        "the processes that did the work; the three columns took turns on the same chunks of URLs."
    )
    many = f"ours, {args.processes} processes ({args.processes} cores)"
    print(f"| traffic | anchor: every expression hashed, full hash in a set | ours, 1 process | {many} |")
    print("|---|---:|---:|---:|")
    for kind, rates in url_rows:
        cells = []
        for name in ("anchor", "ours", "many"):
            if name not in rates:
                cells.append("-")
                continue
            wall, cpu = rates[name]
            cells.append(f"{wall:,.0f}" + (f" ({cpu:,.0f})" if cpu else ""))
        print(f"| {kind}: {TRAFFIC[kind]} | " + " | ".join(cells) + " |")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "urllist.json").write_text(
        json.dumps(
            {
                "load": [load_before, load],
                "machine": platform.machine(),
                "rows": rows,
                "whole_urls": url_rows,
                "args": vars(args),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
