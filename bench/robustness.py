"""Robustness of matching to the edits people make: recall per edit and the false-match rate.

Bank: every picture of ../shared/corpus/natural (204 benign photographs cut from 17 source images).
Queries: every bank picture put through each edit below (re-encoded as JPEG quality 95 unless the
edit is a JPEG quality). For each method, one run:

- recall: the share of edited copies that match their own original;
- false matches: among all (edited copy, bank picture) pairs whose pictures come from different
  source images (and, for a frame made of another picture, not from the frame's source either),
  how many match. With 45 edits that is about 1.8 million pairs at the full size, plus the pairs
  of unedited pictures. Then, without more hashing, every edited copy is also looked up against
  every other edited copy stored as its own plain hash (``copy_pairs``), for the ordered pairs that
  share no source: about 5 million more pairs with ``--every 4``.

Methods, side by side on the same queries:

- ThreatExchange PdqSignal: its hash of the query bytes and its compare (31 bits);
- pdqhash ("ref"): Meta's C++ reference on Pillow's RGB decode (31 bits), which is also what
  openmnr's reference mode computes, bit for bit (tests/core/test_pdq.py), and "ref 8" with the
  reference's eight dihedral hashes (``pdqhash.compute_dihedral``);
- PDQ fast: openmnr.core.signals.pdq, the query's hash alone (31 bits);
- dihedral (sign changes): fast mode plus the reference's eight sign-change variants, which is
  what ``PDQIndex.query_variants`` was given until now;
- then openmnr.core.robust.probes, cumulatively: exact dihedral variants, border trim, a rotation
  sweep, crop refill (each extra probe at the lowered radius the module computes);
- local features (openmnr.core.robust.features, needs opencv-python-headless) alone, and
  unioned with the kept probes;
- local features as the banks wire them (``OPENMNR_MATCH_FEATURES``): the default probes first,
  and the feature check only for a query they matched to nothing; with 64 bank keypoints and
  with the banks' 128 (``features.BANK_POINTS``); and, what the banks run now, 128 with the
  query's keypoints of its inner region too (``features.INNER_POINTS``); and that once more with
  the exhaustive feature scan (``exhaustive=True``), the reference of the candidate scan the
  banks run (docs/decisions/0034-feature-scan-index.md). The 128 bank keypoints and the inner
  columns' query keypoints are computed as the banks compute them (``probes.hash_probed``: from
  the reduced decode the hashes are made from, when it has the pixels; docs/decisions/0033); the
  other feature columns decode the picture again in full (``features.extract``).

Edits (p = share of each dimension): JPEG quality 30/50/70; resize 0.25/0.5/1.5/2x; crop 5/10/20%
at one side, at two adjacent sides (a corner) and at the centre (p/2 off every side); border
10/20/40% (the canvas is 1 + p times the picture, which is centred) solid, blurred (the picture
itself stretched and blurred behind it) and framed by another source's picture; rotation by
2/4/8/15 degrees (same size, black corners); 90/180/270 degree turns and both mirrors; a caption
and a logo; greyscale; blur; gamma 0.6; contrast 1.5; a phone screenshot; four combinations.

Usage: python bench/robustness.py [--quick] [--every N] [--no-features] [--jobs N] [--json PATH]
The bank is always every corpus picture; ``--every N`` takes the queries from every N-th picture
only (``--quick`` is ``--every 4``: about 0.46 million cross pairs, for trying changes; the full
run has 204 x 47 queries and 1.84 million cross pairs).
"""

import argparse
import csv
import io
import json
import multiprocessing
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from openmnr.core import media
from openmnr.core.robust import features, probes
from openmnr.core.signals import pdq

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "natural"
RADIUS = pdq.MATCH_THRESHOLD

#: The probe settings of each cumulative column (the last is what docs/matching.md recommends).
#: Every probe is computed once per query; each column looks up the extra probes of its kinds
#: (``probes.restrict``, which recomputes the lowered radius for that many probes).
ALL_PROBES = probes.ProbeSettings(rotations=(-3.0, -1.5, 1.5, 3.0), crop_fill=(0.05, 0.1))
PROBE_COLUMNS = {
    "+ exact dihedral": set(),
    "+ border trim": {"trim"},
    "+ rotation sweep": {"trim", "rotation"},
    "+ crop refill": {"trim", "rotation", "crop_fill"},
}
KEPT_PROBES = "+ border trim"
METHODS = [
    "ThreatExchange PdqSignal",
    "pdqhash",
    "pdqhash dihedral",
    "PDQ fast",
    "dihedral (sign changes)",
    *PROBE_COLUMNS,
    "local features",
    f"{KEPT_PROBES} + local features",
    "+ crop refill + local features",
    "features as wired, 64 bank keypoints",
    "features as wired in the banks (128 bank keypoints)",
    "features as wired, 128 bank keypoints, query with its inner region",
    "the same, exhaustive feature scan",
]
FEATURE_METHODS = [m for m in METHODS if "features" in m]
#: Bank keypoints of the second "as wired" column (what the banks keep): more keypoints per entry for the frame of another
#: picture, at twice the bytes per entry and twice the scan.
MORE_POINTS = features.BANK_POINTS
#: Whether this run computes local features (``--no-features`` leaves them out: they are five
#: times the cost of everything else together, and a full run without them fits in minutes).
WITH_FEATURES = True


# ----------------------------------------------------------------------------- edits


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def crop(image, p, where, k):
    w, h = image.size
    dx, dy = round(w * p), round(h * p)
    if where == "one side":
        boxes = [(dx, 0, w, h), (0, 0, w - dx, h), (0, dy, w, h), (0, 0, w, h - dy)]
    elif where == "two sides":
        boxes = [(dx, dy, w, h), (0, dy, w - dx, h), (dx, 0, w, h - dy), (0, 0, w - dx, h - dy)]
    else:
        boxes = [(dx // 2, dy // 2, w - dx // 2, h - dy // 2)]
    return image.crop(boxes[k % len(boxes)])


def border(image, p, kind, other):
    w, h = image.size
    size = (round(w * (1 + p)), round(h * (1 + p)))
    if kind == "solid":
        canvas = Image.new("RGB", size, (0, 0, 0))
    elif kind == "blurred":
        canvas = image.resize(size).filter(ImageFilter.GaussianBlur(max(8, min(size) / 25)))
    else:
        canvas = other.resize(size)
    canvas.paste(image, ((size[0] - w) // 2, (size[1] - h) // 2))
    return canvas


def caption(image, k):
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(12, image.height // 10)
    font = ImageFont.load_default(size=size)
    text = ["so funny lol", "look at this", "#throwback", "repost if you agree"][k % 4]
    draw.text(
        (image.width // 20, image.height - size * 1.6),
        text,
        font=font,
        fill="white",
        stroke_width=max(1, size // 12),
        stroke_fill="black",
    )
    return out


def logo(image, k):
    out = image.copy()
    draw = ImageDraw.Draw(out)
    side = max(8, image.width // 7)
    x, y = (
        (image.width - side - side // 4, side // 4) if k % 2 else (side // 4, image.height - side - side // 4)
    )
    draw.rounded_rectangle((x, y, x + side, y + side), radius=side // 5, fill=(230, 40, 90))
    draw.ellipse((x + side // 4, y + side // 4, x + 3 * side // 4, y + 3 * side // 4), fill="white")
    return out


def screenshot(image, k):
    canvas = Image.new("RGB", (720, 1280), (250, 250, 250))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 720, 56), fill=(20, 20, 20))
    draw.rectangle((0, 1180, 720, 1280), fill=(240, 240, 240))
    font = ImageFont.load_default(size=28)
    draw.text((24, 12), f"12:0{k % 10}  LTE", font=font, fill="white")
    draw.text((24, 76), "someone_posted", font=font, fill=(30, 30, 30))
    scale = 720 / image.width
    shown = image.resize((720, max(1, round(image.height * scale))))
    if shown.height > 960:
        shown = shown.crop((0, 0, 720, 960))
    canvas.paste(shown, (0, 130))
    draw.text((24, 140 + shown.height), "42 likes   7 comments", font=font, fill=(30, 30, 30))
    return canvas


def gamma(image, g):
    table = [round(255 * (i / 255) ** g) for i in range(256)] * 3
    return image.point(table)


def rotate(image, angle, k):
    return image.rotate(angle if k % 2 else -angle, resample=Image.Resampling.BICUBIC, expand=False)


T = Image.Transpose


def edits():
    """name -> (group, function(image, k, other) -> image or JPEG bytes)."""
    out = {"unedited (JPEG q95)": ("none", lambda im, k, o: im)}
    for q in (30, 50, 70):
        out[f"JPEG q{q}"] = ("JPEG", lambda im, k, o, q=q: jpeg(im, q))
    for s in (0.25, 0.5, 1.5, 2.0):
        out[f"resize {s}x"] = (
            "resize",
            lambda im, k, o, s=s: im.resize((max(8, round(im.width * s)), max(8, round(im.height * s)))),
        )
    for where in ("one side", "two sides", "centre"):
        for p in (0.05, 0.1, 0.2):
            out[f"crop {p:.0%} {where}"] = ("crop", lambda im, k, o, p=p, w=where: crop(im, p, w, k))
    for kind in ("solid", "blurred", "frame"):
        for p in (0.1, 0.2, 0.4):
            out[f"border {p:.0%} {kind}"] = ("border", lambda im, k, o, p=p, c=kind: border(im, p, c, o))
    for angle in (2, 4, 8, 15):
        out[f"rotation {angle} deg"] = ("rotation", lambda im, k, o, a=angle: rotate(im, a, k))
    for name, turn in (
        ("rotation 90", T.ROTATE_90),
        ("rotation 180", T.ROTATE_180),
        ("rotation 270", T.ROTATE_270),
        ("mirror", T.FLIP_LEFT_RIGHT),
        ("flip top-bottom", T.FLIP_TOP_BOTTOM),
    ):
        out[name] = ("turn/mirror", lambda im, k, o, t=turn: im.transpose(t))
    out["caption"] = ("overlay", lambda im, k, o: caption(im, k))
    out["logo"] = ("overlay", lambda im, k, o: logo(im, k))
    out["greyscale"] = ("colour", lambda im, k, o: im.convert("L").convert("RGB"))
    out["blur"] = (
        "colour",
        lambda im, k, o: im.filter(ImageFilter.GaussianBlur(max(1.5, min(im.size) / 200))),
    )
    out["gamma 0.6"] = ("colour", lambda im, k, o: gamma(im, 0.6))
    out["contrast 1.5"] = ("colour", lambda im, k, o: ImageEnhance.Contrast(im).enhance(1.5))
    out["screenshot"] = ("screenshot", lambda im, k, o: screenshot(im, k))
    out["mirror + JPEG q50"] = ("combined", lambda im, k, o: jpeg(im.transpose(T.FLIP_LEFT_RIGHT), 50))
    out["rotation 90 + border 20% solid"] = (
        "combined",
        lambda im, k, o: border(im.transpose(T.ROTATE_90), 0.2, "solid", o),
    )
    out["crop 10% one side + resize 0.5x"] = (
        "combined",
        lambda im, k, o: crop(im, 0.1, "one side", k).resize((im.width // 2, im.height // 2)),
    )
    out["rotation 4 deg + crop 5% centre"] = (
        "combined",
        lambda im, k, o: crop(rotate(im, 4, k), 0.05, "centre", k),
    )
    return out


EDITS = edits()


# ----------------------------------------------------------------------------- signatures


def _words(hex_values) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(hex_values)), np.uint8).reshape(-1, 32).view("<u8")


def signature(data: bytes, *, bank: bool, timed: bool = False) -> dict:
    """Everything each method needs of one picture, with per-method times (seconds)."""
    from threatexchange.signal_type.pdq.signal import PdqSignal

    sig, times = {}, {}
    start = time.perf_counter()
    sig["tx"] = PdqSignal.hash_from_bytes(data)
    times["ThreatExchange PdqSignal"] = time.perf_counter() - start

    # pdqhash on Pillow's RGB decode: the same pixels as openmnr's reference mode, which is
    # bit-identical to it (tests/core/test_pdq.py), so one computation serves both columns.
    start = time.perf_counter()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    hashes, _ = pdqhash.compute_dihedral(rgb)
    sig["pdqhash"] = [np.packbits(np.asarray(h, dtype=bool)).tobytes().hex() for h in hashes]
    times["pdqhash dihedral"] = time.perf_counter() - start

    start = time.perf_counter()
    sig["fast"] = pdq.hash_media(data).value
    times["PDQ fast"] = time.perf_counter() - start
    if bank and not WITH_FEATURES:
        return {"sig": sig, "times": times}
    if bank:
        start = time.perf_counter()
        sig["features"] = features.extract(data, features.ENTRY_POINTS).to_bytes()
        times["local features (bank side)"] = time.perf_counter() - start
        # What a bank stores: the keypoints as ``hash_probed`` finds them when a picture is
        # proposed to a bank (openmnr.banks.services.curation), from its reduced decode.
        sig["features_more"] = probes.hash_probed(
            data, dihedral=False, trim=False, keypoints=MORE_POINTS
        ).keypoints
        return {"sig": sig, "times": times}

    start = time.perf_counter()
    reduced = media.decode_reduced(data, pdq.FAST_MIN_SIDE)
    sig["sign"] = list(pdq.dihedral_from_reduced(reduced).sign_changes)
    times["dihedral (sign changes)"] = time.perf_counter() - start
    start = time.perf_counter()
    everything = probes.probes(data, ALL_PROBES)
    times["all probes"] = time.perf_counter() - start
    for column, kinds in PROBE_COLUMNS.items():
        found = probes.restrict(everything, kinds)
        sig[column] = (list(found.primary), list(found.extra), found.radius, found.extra_radius)
    if timed:
        start = time.perf_counter()
        probes.probes(data)
        times["default probes (dihedral + trim)"] = time.perf_counter() - start
    if WITH_FEATURES:
        start = time.perf_counter()
        sig["features"] = features.extract(data, features.QUERY_POINTS)
        times["local features"] = time.perf_counter() - start
        start = time.perf_counter()
        # What the match API computes for an upload (``hash_probed``, the keypoints from the same
        # reduced decode as the probes, inner region included).
        hashed = probes.hash_probed(data, keypoints=features.QUERY_POINTS)
        sig["features_inner"] = features.Features.from_bytes(hashed.keypoints)
        times["default probes + query keypoints (hash_probed, as the match API)"] = (
            time.perf_counter() - start
        )
    return {"sig": sig, "times": times}


# ----------------------------------------------------------------------------- workers

_BANK: dict = {}


def _load(path: Path) -> bytes:
    return path.read_bytes()


def _bank_one(path: str) -> dict:
    return signature(Path(path).read_bytes(), bank=True)


def _nearest(query_hexes, bank_words) -> np.ndarray:
    """Smallest distance from any of the query hashes to each bank hash."""
    if not query_hexes:
        return np.full(len(bank_words), 256)
    q = _words(query_hexes)
    d = np.bitwise_count(q[:, None, :] ^ bank_words[None, :, :]).sum(axis=2)
    return d.min(axis=0)


def _query_one(task) -> list[dict]:
    """Every edit of one bank picture: which bank pictures each method matches."""
    number, path, other_path = task
    image = Image.open(path).convert("RGB")
    other = Image.open(other_path).convert("RGB")
    bank = _BANK
    out = []
    for name, (group, edit) in EDITS.items():
        made = edit(image, number, other)
        data = made if isinstance(made, bytes) else jpeg(made, 95)
        found = signature(data, bank=False, timed=len(out) % 8 == 0)
        sig = found["sig"]
        match = {}
        match["ThreatExchange PdqSignal"] = (
            (_nearest([sig["tx"]], bank["tx"]) <= RADIUS) & ~bank["tx_missing"] if sig["tx"] else None
        )
        match["pdqhash"] = _nearest(sig["pdqhash"][:1], bank["pdqhash"]) <= RADIUS
        match["pdqhash dihedral"] = _nearest(sig["pdqhash"], bank["pdqhash"]) <= RADIUS
        match["PDQ fast"] = _nearest([sig["fast"]], bank["fast"]) <= RADIUS
        match["dihedral (sign changes)"] = _nearest(sig["sign"], bank["fast"]) <= RADIUS
        for column in PROBE_COLUMNS:
            primary, extra, radius, extra_radius = sig[column]
            match[column] = (_nearest(primary, bank["fast"]) <= radius) | (
                _nearest(extra, bank["fast"]) <= extra_radius
            )
        if WITH_FEATURES:
            start = time.perf_counter()
            hits = bank["feature_index"].query(sig["features"])
            found["times"]["local features"] += time.perf_counter() - start
            feature_match = np.zeros(len(bank["fast"]), bool)
            for entry, _ in hits:
                feature_match[entry] = True
            match["local features"] = feature_match
            match[f"{KEPT_PROBES} + local features"] = match[KEPT_PROBES] | feature_match
            match["+ crop refill + local features"] = match["+ crop refill"] | feature_match
            # As the banks wire them (openmnr.banks.matcher): the default probes first, and the
            # feature check only for a query they matched to nothing at all.
            pdq_found = bool(match[KEPT_PROBES].any())
            match["features as wired, 64 bank keypoints"] = match[KEPT_PROBES] | (
                feature_match & (not pdq_found)
            )
            more = np.zeros(len(bank["fast"]), bool)
            if not pdq_found:
                start = time.perf_counter()
                for entry, _ in bank["feature_index_more"].query(sig["features"]):
                    more[entry] = True
                found["times"]["local features, 128 bank keypoints"] = time.perf_counter() - start
            match["features as wired in the banks (128 bank keypoints)"] = match[KEPT_PROBES] | more
            # What the banks run now: the query's keypoints include its inner region's
            # (features.INNER_POINTS), against the same 128 bank keypoints.
            inner = np.zeros(len(bank["fast"]), bool)
            if not pdq_found:
                start = time.perf_counter()
                for entry, _ in bank["feature_index_more"].query(sig["features_inner"]):
                    inner[entry] = True
                found["times"]["local features, 128 bank keypoints, inner query"] = (
                    time.perf_counter() - start
                )
            match["features as wired, 128 bank keypoints, query with its inner region"] = (
                match[KEPT_PROBES] | inner
            )
            # The same with the exhaustive scan (every stored keypoint measured), the reference
            # of the candidate scan (docs/decisions/0034-feature-scan-index.md).
            every = np.zeros(len(bank["fast"]), bool)
            if not pdq_found:
                start = time.perf_counter()
                for entry, _ in bank["feature_index_more"].query(sig["features_inner"], exhaustive=True):
                    every[entry] = True
                found["times"]["local features, 128 bank keypoints, inner query, exhaustive"] = (
                    time.perf_counter() - start
                )
            match["the same, exhaustive feature scan"] = match[KEPT_PROBES] | every
        if match["ThreatExchange PdqSignal"] is None:  # ThreatExchange gave no hash
            match["ThreatExchange PdqSignal"] = np.zeros(len(bank["fast"]), bool)
        out.append(
            {
                "edit": name,
                "group": group,
                "number": number,
                "frame_source": group == "border" and name.endswith("frame"),
                "match": {m: np.packbits(v) for m, v in match.items()},
                "times": found["times"],
                "extra": {c: (len(sig[c][1]), sig[c][3]) for c in PROBE_COLUMNS},
                # What this copy is looked up by, per method, for the pairs between copies.
                "lookups": _lookups(sig),
            }
        )
    return out


def _lookups(sig) -> dict:
    """Per method: (family, [(hashes, radius), ...]) a copy is looked up by, and per family the
    copy's own hash, which it is stored as when other copies are looked up against it."""
    found = {
        "ThreatExchange PdqSignal": ("tx", [([sig["tx"]] if sig["tx"] else [], RADIUS)]),
        "pdqhash": ("pdqhash", [(sig["pdqhash"][:1], RADIUS)]),
        "pdqhash dihedral": ("pdqhash", [(sig["pdqhash"], RADIUS)]),
        "PDQ fast": ("fast", [([sig["fast"]], RADIUS)]),
        "dihedral (sign changes)": ("fast", [(sig["sign"], RADIUS)]),
    }
    for column in PROBE_COLUMNS:
        primary, extra, radius, extra_radius = sig[column]
        found[column] = ("fast", [(primary, radius), (extra, extra_radius)])
    stored = {"tx": sig["tx"], "pdqhash": sig["pdqhash"][0], "fast": sig["fast"]}
    return {"methods": found, "stored": stored}


def copy_pairs(results, sources, others, methods) -> tuple[int, dict[str, int]]:
    """False matches among the edited copies themselves: every copy looked up, by each method,
    against every other copy stored as its own plain hash, for the ordered pairs whose pictures
    share no source (a frame's source counts as the copy's too). With N copies that is about
    N * N * 16/17 pairs: the million-pair scale the false-match rate needs, without more hashing."""
    n = len(results)
    own = np.array([sources[r["number"]] for r in results])
    frame = np.array([sources[others[r["number"]]] if r["frame_source"] else "" for r in results])
    stored = {}
    for family in ("tx", "pdqhash", "fast"):
        values = [r["lookups"]["stored"][family] for r in results]
        stored[family] = (_words([v or "0" * 64 for v in values]), np.array([not v for v in values]))
    false = {m: 0 for m in methods if m in results[0]["lookups"]["methods"]}
    pairs = 0
    for a, r in enumerate(results):
        unrelated = (own != own[a]) & (frame != own[a])
        if frame[a]:
            unrelated &= (own != frame[a]) & (frame != frame[a])
        unrelated[a] = False
        pairs += int(unrelated.sum())
        for m in false:
            family, lookups = r["lookups"]["methods"][m]
            words, missing = stored[family]
            hit = np.zeros(n, bool)
            for hashes, radius in lookups:
                if hashes:
                    hit |= _nearest(hashes, words) <= radius
            false[m] += int((hit & unrelated & ~missing).sum())
    return pairs, false


def _init(bank):
    _BANK.update(bank)


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="queries from every fourth picture")
    parser.add_argument("--every", type=int, default=1, help="queries from every N-th picture")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "robustness.json"))
    parser.add_argument(
        "--no-features", action="store_true", help="leave local features out (a full run in minutes)"
    )
    args = parser.parse_args(argv)
    global WITH_FEATURES
    WITH_FEATURES = not args.no_features
    methods = [m for m in METHODS if WITH_FEATURES or m not in FEATURE_METHODS]

    rows = list(csv.DictReader(open(CORPUS / "SOURCES.csv", newline="")))
    every = 4 if args.quick else max(1, args.every)
    paths = [str(CORPUS / row["file"]) for row in rows]
    sources = np.array([row["source_image"] for row in rows])
    n = len(paths)
    load_before = os.getloadavg()
    started = time.time()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.jobs) as pool:
        bank_sigs = pool.map(_bank_one, paths, chunksize=4)
    bank = {
        # ThreatExchange returns no hash for some flat pictures: those entries never match.
        "tx": _words([s["sig"]["tx"] or "0" * 64 for s in bank_sigs]),
        "tx_missing": np.array([not s["sig"]["tx"] for s in bank_sigs]),
        "pdqhash": _words([s["sig"]["pdqhash"][0] for s in bank_sigs]),
        "fast": _words([s["sig"]["fast"] for s in bank_sigs]),
    }
    if WITH_FEATURES:
        for key, name in (("features", "feature_index"), ("features_more", "feature_index_more")):
            index = features.FeatureIndex()
            index.add_many((i, features.Features.from_bytes(s["sig"][key])) for i, s in enumerate(bank_sigs))
            bank[name] = index
    bank_seconds = time.time() - started

    # The frame of "border ... frame" is a picture of another source, chosen deterministically.
    others = []
    for i in range(n):
        j = (i + n // 3) % n
        while sources[j] == sources[i]:
            j = (j + 1) % n
        others.append(j)
    tasks = [(i, paths[i], paths[others[i]]) for i in range(0, n, every)]
    with context.Pool(args.jobs, initializer=_init, initargs=(bank,)) as pool:
        results = []
        for done, part in enumerate(pool.imap_unordered(_query_one, tasks, chunksize=1), 1):
            results += part
            if done % 10 == 0 or done == len(tasks):
                print(
                    f"  {done}/{len(tasks)} pictures, {time.time() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    seconds = time.time() - started
    load_after = os.getloadavg()
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with open(Path(args.json).with_suffix(".raw.pickle"), "wb") as file:  # for re-summarising
        pickle.dump({"results": results, "sources": sources, "others": others, "bank_sigs": bank_sigs}, file)

    table = summarise(results, sources, others, n, methods)
    copy_pair_count, copy_false = copy_pairs(results, sources, others, methods)
    for r in results:
        del r["lookups"]
    times = {}
    for r in results:
        for m, t in r["times"].items():
            times.setdefault(m, []).append(t)
    for s in bank_sigs:
        for m, t in s["times"].items():
            times.setdefault(m if m.endswith("side)") else f"{m} (bank side)", []).append(t)
    cost = {m: round(1000 * float(np.median(v)), 2) for m, v in times.items()}
    report = {
        "pictures": n,
        "query_pictures": len(tasks),
        "edits": len(EDITS),
        "queries": len(results),
        "cross_pairs": table["cross_pairs"],
        "copy_pairs": copy_pair_count,
        "copy_false_matches": copy_false,
        "seconds": round(seconds, 1),
        "bank_seconds": round(bank_seconds, 1),
        "jobs": args.jobs,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "methods": methods,
        "extra_probes_and_radius": {
            c: {
                "median_extra_probes": float(np.median([r["extra"][c][0] for r in results])),
                "radii": sorted({r["extra"][c][1] for r in results if r["extra"][c][0]}),
            }
            for c in PROBE_COLUMNS
        },
        "recall": table["recall"],
        "false_matches": table["false_matches"],
        "pairs_per_edit": table["pairs_per_edit"],
        "median_ms_per_image": cost,
        "feature_settings": None
        if not WITH_FEATURES
        else {
            "entry_points": features.ENTRY_POINTS,
            "entry_points_more": MORE_POINTS,
            "bytes_per_entry": float(np.mean([len(s["sig"]["features"]) for s in bank_sigs])),
            "bytes_per_entry_more": float(np.mean([len(s["sig"]["features_more"]) for s in bank_sigs])),
            "query_points": features.QUERY_POINTS,
            "min_inliers": features.MIN_INLIERS,
        },
        "python": sys.version.split()[0],
    }
    print_report(report)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nJSON written to {args.json}")
    print(json.dumps({k: report[k] for k in ("pictures", "queries", "cross_pairs", "copy_pairs", "seconds")}))
    return 0


def summarise(results, sources, others, n, methods=METHODS):
    recall, false, pairs_per_edit = {}, {m: 0 for m in methods}, {}
    cross_pairs = 0
    by_edit: dict[str, dict[str, list]] = {}
    for r in results:
        i = r["number"]
        unrelated = sources != sources[i]
        if r["frame_source"]:
            unrelated &= sources != sources[others[i]]
        count = int(unrelated.sum())
        cross_pairs += count
        pairs_per_edit[r["edit"]] = pairs_per_edit.get(r["edit"], 0) + count
        for m in methods:
            hit = np.unpackbits(r["match"][m])[:n].astype(bool)
            by_edit.setdefault(r["edit"], {}).setdefault(m, []).append(bool(hit[i]))
            false[m] += int((hit & unrelated).sum())
    for edit, per in by_edit.items():
        recall[edit] = {m: round(100 * float(np.mean(v)), 1) for m, v in per.items()}
    return {
        "recall": recall,
        "false_matches": false,
        "cross_pairs": cross_pairs,
        "pairs_per_edit": pairs_per_edit,
    }


SHORT = {
    "ThreatExchange PdqSignal": "TX",
    "pdqhash": "ref",
    "pdqhash dihedral": "ref 8",
    "PDQ fast": "fast",
    "dihedral (sign changes)": "8 sign",
    "+ exact dihedral": "+exact 8",
    "+ border trim": "+trim",
    "+ rotation sweep": "+sweep",
    "+ crop refill": "+refill",
    "local features": "features",
    f"{KEPT_PROBES} + local features": "trim+feat",
    "+ crop refill + local features": "all+feat",
    "features as wired, 64 bank keypoints": "wired",
    "features as wired in the banks (128 bank keypoints)": "wired 128",
    "features as wired, 128 bank keypoints, query with its inner region": "128+inner",
    "the same, exhaustive feature scan": "128+in exh",
}


def print_report(report):
    methods = report["methods"]
    widths = [max(len(SHORT[m]), 6) for m in methods]
    print(
        f"\nRecall (%) per edit: bank of {report['pictures']} pictures, {report['query_pictures']} of them "
        f"x {report['edits']} edits as queries, "
        f"{report['cross_pairs']:,} cross pairs; load average {report['load_average_before'][0]} before, "
        f"{report['load_average_after'][0]} after; {report['seconds']} s on {report['jobs']} processes\n"
    )
    header = "| edit | " + " | ".join(SHORT[m].rjust(w) for m, w in zip(methods, widths, strict=True)) + " |"
    print(header)
    print("|---|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for edit, per in report["recall"].items():
        cells = " | ".join(f"{per[m]:.1f}".rjust(w) for m, w in zip(methods, widths, strict=True))
        print(f"| {edit} | {cells} |")
    pairs = report["cross_pairs"]
    cells = " | ".join(str(report["false_matches"][m]).rjust(w) for m, w in zip(methods, widths, strict=True))
    print(f"| **false matches** (of {pairs:,} pairs) | {cells} |")
    cells = " | ".join(
        f"{report['false_matches'][m] / pairs:.1e}".rjust(w) for m, w in zip(methods, widths, strict=True)
    )
    print(f"| **false-match rate** | {cells} |")
    if report.get("copy_pairs"):
        copies = report["copy_pairs"]
        false = report["copy_false_matches"]
        cells = " | ".join(str(false.get(m, "-")).rjust(w) for m, w in zip(methods, widths, strict=True))
        print(f"| **false matches between copies** (of {copies:,} pairs) | {cells} |")
        total = pairs + copies
        cells = " | ".join(
            f"{(report['false_matches'][m] + false.get(m, 0)) / total:.1e}".rjust(w)
            for m, w in zip(methods, widths, strict=True)
        )
        print(f"| **false-match rate, all {total:,} pairs** | {cells} |")
    print("\nExtra probes (median count) and the radius they were searched at:")
    for c, v in report["extra_probes_and_radius"].items():
        print(f"  {c}: {v['median_extra_probes']:.0f} extra probes, radius {v['radii']}")
    print("\nMedian ms per query image (decode included, one process):")
    for m, ms in report["median_ms_per_image"].items():
        print(f"  {m}: {ms}")
    if report.get("feature_settings"):
        print(f"\nLocal features: {report['feature_settings']}")
    print("\nColumns: " + "; ".join(f"{SHORT[m]} = {m}" for m in methods))


if __name__ == "__main__":
    sys.exit(main())
