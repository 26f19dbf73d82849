"""The feature scan measures only candidate entries (``feature_candidates``) and decides as the
exhaustive scan does: the same (entry, inliers) for crops, frames and rotations of bank pictures,
against a bank of every corpus picture."""

import csv
import io

import numpy as np
import pytest
from PIL import Image

from openmnr.core.robust import feature_candidates, features


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _framed(picture: Image.Image, frame: Image.Image, share: float) -> Image.Image:
    size = (round(picture.width * (1 + share)), round(picture.height * (1 + share)))
    canvas = frame.resize(size)
    canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    return canvas


EDITS = {
    "crop 10% one side": lambda p, o: p.crop((p.width // 10, 0, p.width, p.height)),
    "crop 20% centre": lambda p, o: p.crop(
        (p.width // 10, p.height // 10, p.width * 9 // 10, p.height * 9 // 10)
    ),
    "rotation 4 degrees": lambda p, o: p.rotate(4, resample=Image.Resampling.BICUBIC),
    "rotation 15 degrees": lambda p, o: p.rotate(15, resample=Image.Resampling.BICUBIC),
    "rotation 90": lambda p, o: p.transpose(Image.Transpose.ROTATE_90),
    "frame of another picture 20%": lambda p, o: _framed(p, o, 0.2),
    "unrelated (another picture)": lambda p, o: o,
}


@pytest.fixture(scope="module")
def bank(shared):
    """Every corpus picture (204) with the keypoints a bank keeps, and its source image."""
    folder = shared / "corpus" / "natural"
    with open(folder / "SOURCES.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    paths = [folder / row["file"] for row in rows]
    index = features.FeatureIndex()
    index.add_many((i, features.extract(path, features.BANK_POINTS)) for i, path in enumerate(paths))
    return index, paths, [row["source_image"] for row in rows]


def test_the_candidate_scan_decides_as_the_exhaustive_scan(bank):
    index, paths, sources = bank
    assert len(index._ids) >= features.SCAN_ALL_BELOW  # the candidate stage is in use
    found = wrong = total = 0
    for number in range(0, len(paths), 15):
        picture = Image.open(paths[number]).convert("RGB")
        other = Image.open(paths[(number + len(paths) // 3) % len(paths)]).convert("RGB")
        for name, edit in EDITS.items():
            query = features.extract(
                _jpeg(edit(picture, other)), features.QUERY_POINTS, inner=features.INNER_POINTS
            )
            fast = index.query(query)
            assert fast == index.query(query, exhaustive=True), (paths[number].name, name)
            if name.startswith("unrelated"):
                continue
            total += 1
            found += number in {entry for entry, _ in fast}
            wrong += sum(sources[entry] != sources[number] for entry, _ in fast)
    assert found >= 0.8 * total
    assert wrong == 0


def test_an_entry_added_or_removed_is_found_or_not_by_the_candidate_scan(bank):
    index, paths, _ = bank
    query = features.extract(paths[7], features.QUERY_POINTS, inner=features.INNER_POINTS)
    assert index.query(query)[0][0] == 7
    smaller = index.copy()
    smaller.remove(7)
    assert 7 not in {entry for entry, _ in smaller.query(query)}
    assert index.query(query)[0][0] == 7  # the copy's change leaves the original as it was
    smaller.add(1000, features.extract(paths[7], features.BANK_POINTS))
    assert smaller.query(query)[0][0] == 1000


def test_candidates_are_the_entries_with_enough_keypoints_sharing_a_chunk():
    rng = np.random.default_rng(11)
    stored = rng.integers(0, 256, (3000, 32), dtype=np.uint8)
    ids = np.repeat(np.arange(30), 100)
    query = rng.integers(0, 256, (200, 32), dtype=np.uint8)
    # Copy one chunk of query descriptors into entries 3 (five keypoints) and 17 (two), whole
    # descriptors into entry 21 (three keypoints), and one common chunk value (held by more
    # keypoints than a bucket may) into entry 25 (ten keypoints): that one is not looked up.
    for row in range(300, 305):
        stored[row, 3:6] = query[row % 200, 3:6]
    for row in range(1700, 1702):
        stored[row, 27:30] = query[5, 27:30]
    stored[2100:2103] = query[:3]
    stored[2500:2510, 6:9] = query[7, 6:9]
    tables = feature_candidates.ChunkTables(stored, ids)
    wanted = feature_candidates.chunk_values(query)
    have = feature_candidates.chunk_values(stored)
    common = [
        np.unique(have[t], return_counts=True)[0][np.unique(have[t], return_counts=True)[1] > 4]
        for t in range(len(have))
    ]
    hit = np.array(
        [
            any(np.isin(have[t, row], wanted[t]) and have[t, row] not in common[t] for t in range(len(have)))
            for row in range(3000)
        ]
    )
    for votes in (1, 2, 3, 4):
        expected = np.flatnonzero(np.repeat(np.bincount(ids[hit], minlength=30) >= votes, 100))
        assert np.array_equal(tables.candidate_rows(query, votes), expected)
    assert set(ids[tables.candidate_rows(query, 3)]) == {3, 21}
