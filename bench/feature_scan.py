"""What the banks' local-feature check costs as a bank grows: the exhaustive scan and the candidate
scan side by side (the basis of OPENMNR_MATCH_FEATURES_MAX_ENTRIES).

An upload no hash matched is checked against the keypoints of the bank's picture entries
(``FeatureIndex.query``). The exhaustive scan (``exhaustive=True``, what the banks ran until
docs/decisions/0034) measures the Hamming distances from every stored keypoint to the query's
750 (500 strongest and 250 of the inner region), then RANSAC for the entries with enough close
pairs: linear in the bank. The candidate scan (the default) first looks the query's descriptor
chunks up in ``feature_candidates.ChunkTables`` and measures only the entries with enough hit
keypoints. Both run on the same query, alternately; "same" counts the queries for which they
return the same (entry, inliers) list. The other anchor, in the same run, is what the upload costs
anyway: its default PDQ probes looked up in a PDQ index of the same size (``probes.search``).

The bank: the corpus pictures' ``BANK_POINTS`` keypoints (up to 204; pictures cut from the same
source overlap, so a query finds several), then unrelated entries cut from generated pictures
(overlapping shapes of random colours and sizes, "dead leaves"): each picture's strongest
keypoints, up to 1,024, make up to 8 entries of 128 (``unrelated_entries``; made once and kept in
bench/results/: 9,796 entries from 2,451 pictures took 278 s at load 11-17). Real ORB descriptors
of pictures are harder to reject than random bits: many patches (flat, edges) are described alike.
Queries: corpus pictures with 10% cut at one side, rotated by 4 degrees, or framed by another
corpus picture (20%), in turn; none is found by PDQ. Memory: the index's arrays, and the candidate
tables on top.

    python bench/feature_scan.py [--sizes 50,500,1000,5000,10000] [--queries 12] [--exhaustive 4]

``--exhaustive N``: past 1,000 entries only the first N queries also run the exhaustive scan
(seconds each). Prints a table with the load average before and after.
"""

import argparse
import io
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from openmnr.core.index import PDQIndex
from openmnr.core.robust import features, probes
from openmnr.core.signals import pdq

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "natural"
RESULTS = ROOT / "bench" / "results"


def _query(paths: list[Path], number: int) -> bytes:
    """Corpus picture ``number`` cut, turned or framed (in turn), as JPEG."""
    image = Image.open(paths[number]).convert("RGB")
    kind = number % 3
    if kind == 0:
        image = image.crop((round(image.width * 0.1), 0, image.width, image.height))
    elif kind == 1:
        image = image.rotate(4, resample=Image.Resampling.BICUBIC)
    else:
        frame = Image.open(paths[(number + len(paths) // 3) % len(paths)]).convert("RGB")
        size = (round(image.width * 1.2), round(image.height * 1.2))
        canvas = frame.resize(size)
        canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
        image = canvas
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def generated(seed: int, side: int = 384) -> Image.Image:
    """A generated picture: overlapping discs and polygons of random colours, sizes drawn from
    a power law (the "dead leaves" model of natural pictures), slightly blurred."""
    rng = np.random.default_rng([29, seed])
    height = round(side * rng.uniform(0.6, 1.0))
    image = Image.new("RGB", (side, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(120, 260))):
        r = side * 0.4 * rng.random() ** 3 + 2
        x, y = rng.uniform(-r, side + r), rng.uniform(-r, height + r)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r * rng.uniform(0.3, 1), x + r, y + r), fill=colour)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7))))
            draw.polygon([(x + r * np.cos(a), y + r * np.sin(a)) for a in angles], fill=colour)
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))


#: Entries cut from one generated picture: up to its strongest 1,024 keypoints, 128 at a time
#: (the strongest, the next, ...; a generated picture has about 500 on average), so 10,000
#: unrelated entries of distinct real descriptors cost about 2,500 pictures' extraction.
ENTRIES_PER_PICTURE = 8


def _generated_entries(seed: int) -> list[features.Features]:
    grey = np.asarray(generated(seed).convert("L"))
    found = features.extract_grey(grey, features.BANK_POINTS * ENTRIES_PER_PICTURE)
    step = features.BANK_POINTS
    return [
        features.Features(found.points[i : i + step], found.descriptors[i : i + step])
        for i in range(0, len(found) - step + 1, step)
    ]


def unrelated_entries(count: int) -> list[features.Features]:
    """``count`` unrelated entries of ``BANK_POINTS`` keypoints cut from generated pictures
    (``ENTRIES_PER_PICTURE`` a picture), made once (one process a core) and kept in
    bench/results/."""
    path = RESULTS / f"feature-filler-v2-{count}.npz"
    if not path.exists():
        started = time.time()
        made: list[features.Features] = []
        with multiprocessing.get_context("fork").Pool() as pool:
            first = 0
            while len(made) < count:
                batch = range(first, first + 2 * (count - len(made)) // ENTRIES_PER_PICTURE + 2)
                for entries in pool.map(_generated_entries, batch, chunksize=10):
                    made += entries
                first = batch.stop
        made = made[:count]
        RESULTS.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            points=np.concatenate([f.points for f in made]),
            descriptors=np.concatenate([f.descriptors for f in made]),
        )
        print(
            f"cut {count} entries from {first} generated pictures in {time.time() - started:.0f} s",
            file=sys.stderr,
        )
    with np.load(path) as kept:  # each access to an npz member reads it again: once each
        points, descriptors = kept["points"], kept["descriptors"]
    step = features.BANK_POINTS
    return [
        features.Features(points[i : i + step], descriptors[i : i + step])
        for i in range(0, len(points), step)
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,500,1000,5000,10000")
    parser.add_argument("--queries", type=int, default=12)
    parser.add_argument("--exhaustive", type=int, default=4, help="exhaustive queries past 1,000 entries")
    args = parser.parse_args(argv)
    paths = sorted(CORPUS.glob("*.jpg"))
    stored = [features.extract(p, features.BANK_POINTS) for p in paths]
    sizes = [int(s) for s in args.sizes.split(",")]
    unrelated = unrelated_entries(max(0, max(sizes) - len(stored)))
    hashes = [pdq.hash_media(p).value for p in paths]
    numbers = [i * 17 % len(paths) for i in range(args.queries)]
    queries = [_query(paths, i) for i in numbers]
    query_features = [
        features.extract(q, features.QUERY_POINTS, inner=features.INNER_POINTS) for q in queries
    ]
    query_probes = [probes.probes(q) for q in queries]
    load_before = os.getloadavg()
    rows = []
    for size in sizes:
        index = features.FeatureIndex()
        index.add_many(enumerate(stored[:size]))
        index.add_many((len(stored) + i, f) for i, f in enumerate(unrelated[: max(0, size - len(stored))]))
        pdq_index = PDQIndex.build(
            [hashes[i % len(hashes)] for i in range(size)], np.arange(size, dtype=np.int64)
        )
        start = time.perf_counter()
        index.query(query_features[0])  # builds the candidate tables
        build = time.perf_counter() - start
        lookup, full, fast, candidates = [], [], [], []
        found_full = found_fast = same = compared = 0
        for k, (f, pr) in enumerate(zip(query_features, query_probes, strict=True)):
            start = time.perf_counter()
            probes.search(pdq_index, pr)
            lookup.append(time.perf_counter() - start)
            start = time.perf_counter()
            quick = index.query(f)
            fast.append(time.perf_counter() - start)
            found_fast += bool(quick)
            chosen = index._tables.candidate_rows(f.descriptors) if index._tables is not None else []
            candidates.append(len(np.unique(index._ids[chosen])))
            if size <= 1000 or k < args.exhaustive:
                start = time.perf_counter()
                every = index.query(f, exhaustive=True)
                full.append(time.perf_counter() - start)
                found_full += bool(every)
                same += quick == every
                compared += 1
        memory = index._points.nbytes + index._descriptors.nbytes + index._ids.nbytes
        tables = index._tables.nbytes if index._tables is not None else 0
        rows.append(
            {
                "size": size,
                "anchor": statistics.median(lookup) * 1000,
                "full": statistics.median(full) * 1000,
                "fast": statistics.median(fast) * 1000,
                "found_full": found_full,
                "found_fast": found_fast,
                "same": same,
                "compared": compared,
                "memory": memory,
                "tables": tables,
                "candidates": statistics.median(candidates),
                "build": build,
            }
        )
    load_after = os.getloadavg()
    print(
        f"\nExhaustive vs candidate feature scan, {args.queries} edited uploads per size (exhaustive on "
        f"all up to 1,000 entries, on {args.exhaustive} past that), {features.BANK_POINTS} keypoints per "
        f"entry, {len(query_features[0])} per query; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after\n"
    )
    print(
        "| entries | PDQ probes p50 ms (anchor) | exhaustive p50 ms | ms per 1,000 | found | "
        "candidate entries p50 | candidate p50 ms | ms per 1,000 | found | same answer | speed-up | index MiB | "
        "+ tables MiB | tables built s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        size = r["size"]
        print(
            f"| {size:,} | {r['anchor']:.2f} | {r['full']:.1f} | {r['full'] / size * 1000:.1f} | "
            f"{r['found_full']}/{r['compared']} | {r['candidates']:.0f} | {r['fast']:.1f} | {r['fast'] / size * 1000:.1f} | "
            f"{r['found_fast']}/{args.queries} | {r['same']}/{r['compared']} | {r['full'] / r['fast']:.1f}x | "
            f"{r['memory'] / 2**20:.1f} | {r['tables'] / 2**20:.1f} | {r['build']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
