"""The Take it down page's hashing in Chromium against openmnr.core on the same files.

The files reach the page through an intercepted address (they never touch the server) and are
hashed by the page's own modules, in its workers, under its Content Security Policy. PDQ and its
quality are compared with the reference (pdqhash on the full picture, EXIF orientation applied),
MD5 and SHA-256 with hashlib: every image of ../shared/vectors/pdq and ../shared/corpus/natural,
the eight EXIF orientations at full and at reduced (1/4) scale, 12-megapixel photographs (decoded at
1/8 scale), a video, and the chunked reading that files over 64 MiB get.
"""

import hashlib
import io
import os
import statistics

import numpy as np
from PIL import Image

from openmnr.core.signals import pdq

HASH_ALL = """async (count) => {
  const { Fingerprinter } = await import("/static/survivors/hashing.js");
  const pool = new Fingerprinter();
  const results = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const blob = await (await fetch("/test-files/" + i)).blob();
    try { return await pool.hash(blob); } catch (error) { return { error: error.code + ": " + error.message }; }
  }));
  const used = { inline: pool.inline, workers: pool.workers.length };
  pool.close();
  return { results, used };
}"""

TRANSPOSE = Image.Transpose
#: The stored picture for each EXIF orientation (the inverse of what the tag asks a viewer to do).
STORED = {
    1: None,
    2: TRANSPOSE.FLIP_LEFT_RIGHT,
    3: TRANSPOSE.ROTATE_180,
    4: TRANSPOSE.FLIP_TOP_BOTTOM,
    5: TRANSPOSE.TRANSPOSE,
    6: TRANSPOSE.ROTATE_90,
    7: TRANSPOSE.TRANSVERSE,
    8: TRANSPOSE.ROTATE_270,
}


def hash_in_browser(page, blobs: list[bytes]) -> list[dict]:
    """Hash each file with the page's Fingerprinter; the files come from an intercepted route."""

    def serve(route):
        index = int(route.request.url.rsplit("/", 1)[1])
        route.fulfill(status=200, body=blobs[index], headers={"Content-Type": "application/octet-stream"})

    page.context.route("**/test-files/*", serve)
    page.goto("/take-it-down/")
    answer = page.evaluate(HASH_ALL, len(blobs))
    # The work ran in module workers, which the page's Content Security Policy allows.
    assert answer["used"]["inline"] is False and answer["used"]["workers"] >= 1
    return answer["results"]


def _jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, **options)
    return out.getvalue()


def _oriented(upright: Image.Image, orientation: int) -> bytes:
    stored = upright if STORED[orientation] is None else upright.transpose(STORED[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _jpeg(stored, exif=exif.tobytes())


def _photo_12mp(source: Image.Image, seed: int, size=(4000, 3000)) -> Image.Image:
    big = np.asarray(source.convert("RGB").resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    big += np.random.default_rng(seed).normal(0, 4, big.shape).astype(np.float32)
    return Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))


def test_pdq_md5_and_sha256_match_the_reference_on_every_vector_and_corpus_image(page, shared, db):
    paths = sorted((shared / "vectors" / "pdq" / "images").glob("*/*")) + sorted(
        (shared / "corpus" / "natural").glob("*.jpg")
    )
    assert len(paths) >= 226
    blobs = [path.read_bytes() for path in paths]
    results = hash_in_browser(page, blobs)
    distances, quality_gaps = [], []
    for path, data, result in zip(paths, blobs, results, strict=True):
        assert "error" not in result, (path.name, result)
        reference = pdq.hash_media(data, mode="reference")
        distances.append(pdq.distance(reference.value, result["pdq"]))
        quality_gaps.append(abs(reference.quality - result["pdqQuality"]))
        assert result["md5"] == hashlib.md5(data).hexdigest(), path.name
        assert result["sha256"] == hashlib.sha256(data).hexdigest(), path.name
        assert result["kind"] == "photo" and result["path"] == "reference"
    assert max(distances) <= 2, [(p.name, d) for p, d in zip(paths, distances, strict=True) if d > 2]
    assert statistics.median(distances) == 0
    assert max(quality_gaps) <= 2 and statistics.median(quality_gaps) == 0


def test_exif_orientation_is_applied_as_the_server_applies_it(page, shared, db):
    natural = shared / "corpus" / "natural"
    small = Image.open(natural / "astronaut-01.jpg").convert("RGB")
    # Over 4 megapixels, so decoded at reduced scale: 1/4 keeps both sides at 256 pixels or more.
    large = _photo_12mp(Image.open(natural / "coffee-02.jpg"), seed=3, size=(2601, 1803))
    blobs = [_oriented(small, o) for o in STORED] + [_oriented(large, o) for o in STORED]
    results = hash_in_browser(page, blobs)
    for number, (data, result) in enumerate(zip(blobs, results, strict=True)):
        reference = pdq.hash_media(data, mode="reference")  # Pillow applies the EXIF orientation
        assert pdq.distance(reference.value, result["pdq"]) <= 2, (number, result)
        assert result["path"] == ("reference" if number < 8 else "reduced-1/4")
    # The orientations really differ as stored: without applying them the hashes would not agree.
    stored_hashes = {
        pdq.hash_rgb(np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))).value for b in blobs[:8]
    }
    assert len(stored_hashes) > 4


def test_twelve_megapixel_photos_are_decoded_at_reduced_scale_and_stay_close(page, shared, db):
    natural = shared / "corpus" / "natural"
    sources = ["rocket-03.jpg", "chelsea-04.jpg", "camera-05.jpg"]
    blobs = [_jpeg(_photo_12mp(Image.open(natural / name), seed)) for seed, name in enumerate(sources)]
    results = hash_in_browser(page, blobs)
    for data, result in zip(blobs, results, strict=True):
        assert result["path"] == "reduced-1/8"
        reference = pdq.hash_media(data, mode="reference")
        # PDQ's own conformance rule between implementations is 10 bits; measured here: 0-4.
        assert pdq.distance(reference.value, result["pdq"]) <= 8
        assert abs(reference.quality - result["pdqQuality"]) <= 5


def test_videos_get_exact_digests_and_large_files_are_read_in_chunks(page, shared, db):
    video = (shared / "vectors" / "pdq" / "video" / "doorknob-hd-no-bar.mp4").read_bytes()
    unknown = b"\x00\x01not a format" * 10
    results = hash_in_browser(page, [video, unknown])
    assert results[0] == {
        "kind": "video",
        "md5": hashlib.md5(video).hexdigest(),
        "sha256": hashlib.sha256(video).hexdigest(),
    }
    assert results[1]["error"].startswith("unsupported")
    # Files over 64 MiB are read chunk by chunk, SHA-256 in JavaScript: the same code on a smaller
    # file with small limits (chunks of an odd size, so 64-byte blocks straddle them).
    data = video + os.urandom(3 * 1024 * 1024 + 17)
    page.context.unroute("**/test-files/*")
    page.context.route("**/test-files/*", lambda route: route.fulfill(status=200, body=data))
    chunked = page.evaluate(
        """async () => {
          const { digestBlob } = await import("/static/survivors/digests.js");
          const blob = await (await fetch("/test-files/0")).blob();
          const seen = [];
          const digests = await digestBlob(blob, (f) => seen.push(f), { wholeFile: 1024, chunk: 1000003 });
          return { ...digests, steps: seen.length };
        }"""
    )
    assert chunked == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "steps": -(-len(data) // 1000003),
    }
