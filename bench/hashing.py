"""Hashing benchmark: OpenMNR's PDQ against its anchors, in one run, on one core and on all cores.

Over the benign photographs of ../shared/corpus/natural and the PDQ vector images, each from bytes
in memory (decoding included), it times:

- openmnr fast       openmnr.core.signals.pdq in fast mode (reduced-scale decode, numpy PDQ)
- openmnr reference  openmnr.core.signals.pdq in reference mode (full decode, pdqhash)
- pdqhash            Pillow full-resolution decode to RGB, then pdqhash.compute
- ThreatExchange     threatexchange's PdqSignal.hash_from_bytes
- imagehash phash    Pillow open, then imagehash.phash
- calibration loop   a fixed pure-Python loop, to show how far the machine itself scales to all
                     cores during the run (the dev machine is shared)

It prints a table (ms per image: median and p90 as measured inside the worker; images/s from the
wall clock of the whole run) and writes bench/results/hashing.json, with the bit distance of fast
mode against reference mode on every image. Fast mode's per-size weight cache is emptied before
every timed pass, so no image benefits from an earlier one of the same size.

Targets: openmnr fast >= 3x pdqhash images/s on one core; all cores >= 1.8x one core.

    .venv/bin/python bench/hashing.py [--repeat 3]
"""

import argparse
import io
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
import PIL
from PIL import Image
from threatexchange.signal_type.pdq.signal import PdqSignal

from openmnr.core.signals import _pdq_dct, pdq

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RESULTS = REPO / "bench" / "results" / "hashing.json"
WARM_UP_IMAGES = 8


def openmnr_fast(data: bytes) -> None:
    pdq.hash_media(data, mode="fast")


def openmnr_reference(data: bytes) -> None:
    pdq.hash_media(data, mode="reference")


def pdqhash_full(data: bytes) -> None:
    pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


def threatexchange_pdq(data: bytes) -> None:
    PdqSignal.hash_from_bytes(data)


def imagehash_phash(data: bytes) -> None:
    imagehash.phash(Image.open(io.BytesIO(data)))


def calibration(data: bytes) -> None:
    """A fixed pure-Python loop: how well the machine itself scales to all cores during the run."""
    total = 0
    for value in range(20_000):
        total += value * value


METHODS = {
    "openmnr fast": openmnr_fast,
    "openmnr reference": openmnr_reference,
    "pdqhash (full res)": pdqhash_full,
    "ThreatExchange PdqSignal": threatexchange_pdq,
    "imagehash phash": imagehash_phash,
    "calibration loop": calibration,
}

_images: list[bytes] = []


def image_paths() -> list[Path]:
    corpus = sorted((SHARED / "corpus" / "natural").glob("*.jpg"))
    vectors = sorted(p for p in (SHARED / "vectors" / "pdq" / "images").rglob("*") if p.is_file())
    return corpus + vectors


def _load(paths: list[Path]) -> None:
    """Pool initializer: every worker holds all images in memory, so no timing includes disk reads."""
    _images[:] = [path.read_bytes() for path in paths]
    for name in METHODS:  # first calls import and allocate; keep that out of the timings
        for data in _images[:WARM_UP_IMAGES]:
            METHODS[name](data)


def _ready(seconds: float) -> None:
    """Hold a worker busy briefly, so that every worker of a pool gets started."""
    time.sleep(seconds)


def _time_images(name: str, indices: list[int]) -> list[float]:
    """Milliseconds per image for one method, measured inside the worker."""
    _pdq_dct._axis_weights.cache_clear()
    method = METHODS[name]
    timings = []
    for index in indices:
        start = time.perf_counter()
        method(_images[index])
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _measure(pool: ProcessPoolExecutor, workers: int, name: str, count: int) -> tuple[float, list[float]]:
    """Wall-clock seconds and per-image ms for one pass of ``name`` over all images."""
    shares = [list(range(worker, count, workers)) for worker in range(workers)]
    start = time.perf_counter()
    results = list(pool.map(_time_images, [name] * workers, shares))
    wall = time.perf_counter() - start
    return wall, [ms for share in results for ms in share]


def _fast_against_reference(paths: list[Path]) -> dict:
    distances, quality_drops = [], []
    good = []
    for path in paths:
        reference = pdq.hash_media(path, mode="reference")
        fast = pdq.hash_media(path, mode="fast")
        found = pdq.distance(reference.value, fast.value)
        distances.append(found)
        if reference.quality >= 80:
            good.append(found)
        if reference.quality >= 60 and fast.quality < 50:
            quality_drops.append(path.name)
    return {
        "histogram_all": dict(sorted(Counter(distances).items())),
        "quality_80_images": len(good),
        "quality_80_max_bits": max(good),
        "quality_80_median_bits": statistics.median(good),
        "quality_60_dropped_below_50": quality_drops,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes per method; the fastest counts")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="the 'all cores' worker count")
    args = parser.parse_args()
    paths = image_paths()
    if not paths:
        print(f"no images under {SHARED}", file=sys.stderr)
        return 1
    core_counts = sorted({1, args.jobs})
    context = multiprocessing.get_context("forkserver")
    best: dict[tuple[str, int], tuple[float, list[float]]] = {}
    pools = {
        cores: ProcessPoolExecutor(cores, mp_context=context, initializer=_load, initargs=(paths,))
        for cores in core_counts
    }
    try:
        for cores, pool in pools.items():  # start and load every worker before any timing
            list(pool.map(_ready, [1.0] * cores))
        for _ in range(args.repeat):  # interleaved, so a burst of load on the machine hits all alike
            for name in METHODS:
                for cores in core_counts:
                    wall, timings = _measure(pools[cores], cores, name, len(paths))
                    if (name, cores) not in best or wall < best[name, cores][0]:
                        best[name, cores] = (wall, timings)
    finally:
        for pool in pools.values():
            pool.shutdown()

    rows = []
    for (name, cores), (wall, timings) in best.items():
        rows.append(
            {
                "method": name,
                "cores": cores,
                "median_ms": statistics.median(timings),
                "p90_ms": float(np.percentile(timings, 90)),
                "images_per_s": len(paths) / wall,
            }
        )
    rate = {(row["method"], row["cores"]): row["images_per_s"] for row in rows}
    speedup = rate["openmnr fast", 1] / rate["pdqhash (full res)", 1]
    scaling = rate["openmnr fast", args.jobs] / rate["openmnr fast", 1]
    machine_scaling = rate["calibration loop", args.jobs] / rate["calibration loop", 1]
    agreement = _fast_against_reference(paths)

    print(f"{len(paths)} images (corpus and PDQ vectors), best of {args.repeat} passes\n")
    print(f"| {'method':<26} | cores | median ms | p90 ms | images/s |")
    print(f"|{'-' * 28}|-------|-----------|--------|----------|")
    for row in rows:
        print(
            f"| {row['method']:<26} | {row['cores']:>5} | {row['median_ms']:>9.2f} | {row['p90_ms']:>6.2f} "
            f"| {row['images_per_s']:>8.1f} |"
        )
    print()
    print(f"fast vs pdqhash, one core: {speedup:.2f}x (target >= 3x): {'met' if speedup >= 3 else 'NOT MET'}")
    print(
        f"fast, {args.jobs} cores vs one: {scaling:.2f}x (target >= 1.8x with 2 cores): "
        f"{'met' if scaling >= 1.8 else 'NOT MET'}"
    )
    print(
        f"calibration loop (no I/O, no libraries), {args.jobs} cores vs one: {machine_scaling:.2f}x "
        "(below ~1.9x means other work shared the cores during the run)"
    )
    print(
        f"fast vs reference: quality>=80 images {agreement['quality_80_images']}, max "
        f"{agreement['quality_80_max_bits']} bits, median {agreement['quality_80_median_bits']}; "
        f"quality>=60 dropped below 50: {len(agreement['quality_60_dropped_below_50'])}"
    )
    print(f"bit distance histogram (all images): {agreement['histogram_all']}")

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "pillow": PIL.__version__,
                },
                "images": len(paths),
                "repeat": args.repeat,
                "results": rows,
                "fast_vs_pdqhash_one_core": speedup,
                "fast_all_cores_vs_one": scaling,
                "calibration_all_cores_vs_one": machine_scaling,
                "fast_vs_reference": agreement,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nwrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
