"""What the banks' local-feature check costs as a bank grows: the basis of
OPENMNR_MATCH_FEATURES_MAX_ENTRIES.

An upload no hash matched is checked against the keypoints of every picture entry
(``FeatureIndex.query``: the Hamming distances from every stored keypoint to the query's 500,
then RANSAC for the entries with enough close pairs), which is linear in the bank. The anchor, in
the same run, is what the upload costs anyway: its default PDQ probes looked up in a PDQ index of
the same size (``probes.search``). Banks of 50 to 2,000 entries: the corpus pictures' keypoints
(up to 204; pictures cut from the same source overlap, so a query finds several), then unrelated
entries of random keypoints; queries: corpus pictures with 10% cut at one side (found by features
only), alternating with the anchor. Memory: the index's arrays.

    python bench/feature_scan.py [--sizes 50,500,2000] [--queries 20] [--points 64]

Prints a table with the load average before and after.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from openmnr.core.index import PDQIndex
from openmnr.core.robust import features, probes
from openmnr.core.signals import pdq

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "natural"


def _cropped(path: Path) -> bytes:
    image = Image.open(path).convert("RGB")
    out = io.BytesIO()
    image.crop((round(image.width * 0.1), 0, image.width, image.height)).save(out, "JPEG", quality=90)
    return out.getvalue()


def filler(seed: int, count: int) -> features.Features:
    """An unrelated entry: random keypoints (as far from the queries as another picture's)."""
    rng = np.random.default_rng(seed)
    points = rng.random((count, 2), dtype=np.float32)
    return features.Features(points, rng.integers(0, 256, (count, 32), dtype=np.uint8))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,500,2000")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--points", type=int, default=features.ENTRY_POINTS, help="keypoints per entry")
    args = parser.parse_args(argv)
    paths = sorted(CORPUS.glob("*.jpg"))
    stored = [features.extract(p, args.points) for p in paths]
    hashes = [pdq.hash_media(p).value for p in paths]
    queries = [_cropped(paths[i * 7 % len(paths)]) for i in range(args.queries)]
    query_features = [features.extract(q, features.QUERY_POINTS) for q in queries]
    query_probes = [probes.probes(q) for q in queries]
    load_before = os.getloadavg()
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        index = features.FeatureIndex()
        index.add_many(enumerate(stored[:size]))
        index.add_many((i, filler(i, args.points)) for i in range(len(stored), size))
        pdq_index = PDQIndex.build(
            [hashes[i % len(hashes)] for i in range(size)], np.arange(size, dtype=np.int64)
        )
        scan, lookup, found = [], [], 0
        for f, pr in zip(query_features, query_probes, strict=True):
            start = time.perf_counter()
            probes.search(pdq_index, pr)
            lookup.append(time.perf_counter() - start)
            start = time.perf_counter()
            found += bool(index.query(f))
            scan.append(time.perf_counter() - start)
        memory = index._points.nbytes + index._descriptors.nbytes + index._ids.nbytes
        rows.append((size, statistics.median(lookup) * 1000, statistics.median(scan) * 1000, found, memory))
    load_after = os.getloadavg()
    print(
        f"\nFeature check vs PDQ probe lookup, {args.queries} cropped uploads per size, {args.points} keypoints "
        f"per entry; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print(
        "| entries | PDQ probes lookup p50 ms (anchor) | feature scan p50 ms | ms per 1,000 entries | found | index MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, anchor, scan, found, memory in rows:
        print(
            f"| {size:,} | {anchor:.2f} | {scan:.1f} | {scan / size * 1000:.1f} | {found}/{args.queries} "
            f"| {memory / 2**20:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
