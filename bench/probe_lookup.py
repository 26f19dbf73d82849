"""What query probes cost at the index: one image's lookups against a PDQ index of N hashes.

Query probes add no bank entries (the index keeps one hash per entry, so its size, build time and
memory at 10M are those of bench/index.py); they add lookups per image. This script builds a
``PDQIndex`` of N random hashes (1% near-duplicates, as bench/index.py), computes the probes of
real pictures (the 204 corpus pictures, each also turned by 90 degrees and framed by a 20% black
border), and times, per image, in one run:

- the plain hash alone (``query``, radius 31): PDQ alone, the anchor;
- the eight sign-change variants (``query_variants``): what ThreatExchange-style dihedral costs;
- the default probes (``probes.search``: exact and sign-change dihedral at 31, border trim at the
  lowered radius);
- every probe kind (adding a rotation sweep and crop refills);
- the banks' matcher's own path: ``PdqSignal.search`` of an upload hashed with
  ``probes.hash_probed`` (the default probes, as the match API computes them).

Usage: python bench/probe_lookup.py [--size 1m|10m]
"""

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from openmnr.core.index import PDQIndex
from openmnr.core.robust import probes
from openmnr.core.signals import pdq

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "natural"
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
ALL = probes.ProbeSettings(rotations=(-3.0, -1.5, 1.5, 3.0), crop_fill=(0.05, 0.1))


def make_hashes(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    near = rng.choice(n, n // 100, replace=False)
    flips = rng.integers(0, 256, size=(len(near), 32), dtype=np.uint8) & rng.integers(
        0, 256, size=(len(near), 32), dtype=np.uint8
    )
    hashes[near] = hashes[rng.choice(n, len(near))] ^ (flips & (flips >> 1))
    return hashes


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=SIZES, default="1m")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "probe_lookup.json"))
    args = parser.parse_args(argv)
    n = SIZES[args.size]
    load_before = os.getloadavg()

    pictures = sorted(CORPUS.glob("*.jpg"))
    queries = []
    for path in pictures:
        image = Image.open(path).convert("RGB")
        for data in (
            path.read_bytes(),
            jpeg(image.transpose(Image.Transpose.ROTATE_90)),
            jpeg(border(image)),
        ):
            found = probes.probes(data, ALL)
            wired = probes.hash_probed(data)
            queries.append(
                {
                    "wired": wired,
                    "plain": found.primary[0],
                    "sign": list(pdq.hash_dihedral(data))[:8],
                    "default": probes.restrict(found, {"trim"}),
                    "all": found,
                }
            )

    hashes = make_hashes(n)
    # The corpus pictures are in the index too, so the lookups also find something.
    plain = np.frombuffer(b"".join(bytes.fromhex(q["plain"]) for q in queries[::3]), np.uint8).reshape(-1, 32)
    hashes[: len(plain)] = plain
    started = time.perf_counter()
    index = PDQIndex.build(hashes, np.arange(n))
    build = time.perf_counter() - started

    methods = {
        "PDQ alone (1 lookup)": lambda q: index.query(q["plain"]),
        "8 sign-change variants": lambda q: index.query_variants(q["sign"]),
        "default probes (dihedral + trim)": lambda q: probes.search(index, q["default"]),
        "all probes (+ sweep + refill)": lambda q: probes.search(index, q["all"]),
        # What the banks' matcher does for an upload: the signal type's search of the value, its
        # probes at the radius and its extra probes at the lowered radius.
        "PdqSignal.search, default probes (the matcher's path)": lambda q: pdq.PdqSignal.search(
            index,
            [[q["wired"].value, *q["wired"].probes]],
            pdq.MATCH_THRESHOLD,
            [list(q["wired"].extra_probes)],
        )[0],
    }
    rows = []
    for name, lookup in methods.items():
        for q in queries[:20]:  # warm up
            lookup(q)
        times, found = [], 0
        for q in queries:
            start = time.perf_counter()
            answer = lookup(q)
            times.append(time.perf_counter() - start)
            found += len(answer) > 0
        hashes_per_image = {
            "PDQ alone (1 lookup)": 1,
            "8 sign-change variants": 8,
            "default probes (dihedral + trim)": float(
                np.mean([len(q["default"].primary) + len(q["default"].extra) for q in queries])
            ),
            "all probes (+ sweep + refill)": float(
                np.mean([len(q["all"].primary) + len(q["all"].extra) for q in queries])
            ),
            "PdqSignal.search, default probes (the matcher's path)": float(
                np.mean([1 + len(q["wired"].probes) + len(q["wired"].extra_probes) for q in queries])
            ),
        }[name]
        ms = np.array(times) * 1000
        rows.append(
            {
                "method": name,
                "hashes_per_image": round(hashes_per_image, 1),
                "p50_ms": round(float(np.percentile(ms, 50)), 3),
                "p99_ms": round(float(np.percentile(ms, 99)), 3),
                "images_per_s": round(len(ms) / (ms.sum() / 1000), 1),
                "images_with_a_match": found,
            }
        )
    load_after = os.getloadavg()
    report = {
        "size": n,
        "queries": len(queries),
        "build_s": round(build, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "rows": rows,
    }
    print(
        f"\nLookups per image against a PDQ index of {n:,} hashes ({len(queries)} images; one process; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; build {build:.1f} s)\n"
    )
    print("| lookup | hashes per image | p50 ms | p99 ms | images/s | images with a match |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['method']} | {row['hashes_per_image']} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{row['images_per_s']} | {row['images_with_a_match']} |"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report))
    return 0


def border(image: Image.Image) -> Image.Image:
    w, h = image.size
    return ImageOps.expand(image, (w // 10, h // 10, w // 10, h // 10), fill=(0, 0, 0))


if __name__ == "__main__":
    sys.exit(main())
