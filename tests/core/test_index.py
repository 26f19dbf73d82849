"""The match indices give exactly the answers of a brute-force scan, through every change."""

import numpy as np
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from openmnr.core import lists
from openmnr.core.index import (
    DIGEST_SIZES,
    ExactIndex,
    IndexFileError,
    IndexInputError,
    MatchIndexError,
    PDQIndex,
    mih,
)


def random_hashes(rng, n):
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flipped(rng, hashes, distances):
    """Copies of ``hashes`` with distances[i] distinct random bits of row i flipped."""
    out = hashes.copy()
    for row, distance in enumerate(distances):
        for bit in rng.choice(256, int(distance), replace=False):
            out[row, bit // 8] ^= 1 << (bit % 8)
    return out


def planted(rng, n):
    """n random hashes, a tenth of them near-duplicates (1-40 bits) of others, and their ids."""
    base = random_hashes(rng, n - n // 10)
    near = flipped(rng, base[rng.integers(0, len(base), n // 10)], rng.integers(1, 41, n // 10))
    hashes = np.concatenate([base, near])
    return hashes, rng.permutation(n).astype(np.int64) * 7 - 1000


def queries_for(rng, stored, count):
    """Perturbed copies of stored hashes at distances 0..63, and as many random hashes."""
    picked = stored[rng.integers(0, len(stored), count)]
    return np.concatenate([flipped(rng, picked, np.arange(count) % 64), random_hashes(rng, count)])


def distances(stored, query):
    return np.unpackbits(stored ^ query, axis=1).sum(axis=1)


def brute_force(stored, ids, query, radius):
    """{id: smallest distance} of the stored hashes within radius of the query."""
    return within(distances(stored, query), ids, radius)


def within(d, ids, radius):
    best = {}
    for i in np.flatnonzero(d <= radius):
        best[int(ids[i])] = min(best.get(int(ids[i]), 999), int(d[i]))
    return best


def answer(matches):
    return dict(matches)


def assert_sorted(matches):
    pairs = [(d, i) for i, d in matches]
    assert pairs == sorted(pairs), "matches come nearest first, ties by id"


@pytest.fixture(params=["scan", "16-bit chunks", "21/22-bit chunks"])
def layout(request, monkeypatch):
    """Each of the three segment layouts, at a size a test can afford."""
    if request.param == "scan":
        return 3_000
    if request.param == "21/22-bit chunks":
        monkeypatch.setattr(mih, "WIDE_CHUNKS_FROM", 10_000)
    return 40_000


@pytest.mark.slow
def test_answers_equal_brute_force_at_every_radius(layout):
    rng = np.random.default_rng(1)
    hashes, ids = planted(rng, layout)
    index = PDQIndex.build(hashes, ids)
    queries = queries_for(rng, hashes, 64)
    truth = [distances(hashes, query) for query in queries]
    for radius in (0, 1, 15, 16, 31, 32, 47, 63):
        results = index.query_batch(queries, radius)
        for d, matches in zip(truth, results, strict=True):
            assert answer(matches) == within(d, ids, radius)
            assert_sorted(matches)
    assert all(results[:64]), "at radius 63 every perturbed copy finds its source"
    assert answer(index.query(queries[40])) == brute_force(hashes, ids, queries[40], 31)


def test_hex_and_bytes_queries_give_the_same_answer():
    rng = np.random.default_rng(2)
    hashes, ids = planted(rng, 5_000)
    index = PDQIndex.build([h.tobytes().hex() for h in hashes], ids)
    query = flipped(rng, hashes[:1], [12])[0]
    expected = brute_force(hashes, ids, query, 31)
    assert expected
    assert answer(index.query(query.tobytes().hex().upper())) == expected
    assert answer(index.query(query.tobytes())) == expected
    assert answer(index.query(query)) == expected


class Model:
    """The truth: every (hash, id) pair stored, for brute force."""

    def __init__(self, hashes, ids):
        self.hashes, self.ids = hashes, ids

    def add(self, hashes, ids):
        self.hashes, self.ids = np.concatenate([self.hashes, hashes]), np.concatenate([self.ids, ids])

    def remove(self, ids):
        keep = ~np.isin(self.ids, ids)
        removed = int((~keep).sum())
        self.hashes, self.ids = self.hashes[keep], self.ids[keep]
        return removed

    def check(self, index, queries, radii=(31, 63)):
        assert len(index) == len(self.ids)
        truth = [distances(self.hashes, query) for query in queries]
        for radius in radii:
            for d, matches in zip(truth, index.query_batch(queries, radius), strict=True):
                assert answer(matches) == within(d, self.ids, radius)


@pytest.mark.slow
def test_adds_and_removes_are_live_without_rebuild():
    rng = np.random.default_rng(3)
    hashes, ids = planted(rng, 20_000)
    index, model = PDQIndex.build(hashes, ids, delta_limit=12_000), Model(hashes, ids)
    next_id = 10**12
    for batch in (1, 50, 3_000, 2_000, 7_000, 1, 4_000):  # through the tail, the delta, then main
        new = flipped(rng, model.hashes[rng.integers(0, len(model.ids), batch)], rng.integers(0, 30, batch))
        new_ids = np.arange(next_id, next_id + batch)
        next_id += batch
        index.add(new, new_ids)
        model.add(new, new_ids)
        gone = rng.choice(model.ids, 40, replace=False)
        assert index.remove(gone) == model.remove(gone)
        model.check(index, queries_for(rng, model.hashes, 8))
    assert index.remove([424242424242]) == 0


def test_an_id_removed_and_added_again_holds_only_its_new_hash():
    rng = np.random.default_rng(4)
    hashes, ids = planted(rng, 6_000)
    index = PDQIndex.build(hashes, ids)
    entry = int(ids[0])
    assert index.remove([entry]) == 1
    assert entry not in answer(index.query(hashes[0], 0))
    new_hash = random_hashes(rng, 1)
    index.add(new_hash, [entry])
    assert entry not in answer(index.query(hashes[0], 0))
    assert answer(index.query(new_hash[0], 0)) == {entry: 0}


def test_one_id_may_hold_several_hashes_and_is_listed_once():
    rng = np.random.default_rng(5)
    base = random_hashes(rng, 1)
    near = flipped(rng, np.repeat(base, 3, axis=0), [3, 9, 20])
    index = PDQIndex.build(np.concatenate([near, random_hashes(rng, 5_000)]), [9, 9, 9, *range(100, 5_100)])
    assert answer(index.query(base[0])) == {9: 3}
    assert index.remove([9]) == 3
    assert answer(index.query(base[0])) == {}


@pytest.mark.slow
def test_save_and_load_memory_mapped(tmp_path):
    rng = np.random.default_rng(6)
    hashes, ids = planted(rng, 30_000)
    index, model = PDQIndex.build(hashes, ids), Model(hashes, ids)
    new = flipped(rng, hashes[:5_000], rng.integers(0, 20, 5_000))
    index.add(new, np.arange(10**9, 10**9 + 5_000))
    model.add(new, np.arange(10**9, 10**9 + 5_000))
    extra = random_hashes(rng, 100)
    index.add(extra, np.arange(2 * 10**9, 2 * 10**9 + 100))
    model.add(extra, np.arange(2 * 10**9, 2 * 10**9 + 100))
    gone = rng.choice(model.ids, 500, replace=False)
    index.remove(gone)
    model.remove(gone)
    path = tmp_path / "pdq.index"
    index.save(path)

    loaded = PDQIndex.load(path)
    main = loaded._segments[0]
    assert not main.words.flags.writeable and isinstance(main.words.base, np.memmap), "mapped, not read"
    queries = queries_for(rng, model.hashes, 16)
    model.check(loaded, queries)

    more = random_hashes(rng, 10)
    loaded.add(more, np.arange(3 * 10**9, 3 * 10**9 + 10))
    model.add(more, np.arange(3 * 10**9, 3 * 10**9 + 10))
    first = model.ids[:10].copy()
    assert loaded.remove(first) == model.remove(first)
    assert loaded.remove(gone) == 0, "already removed before saving"
    loaded.compact()
    loaded.save(path)  # over the file it is mapped from
    model.check(PDQIndex.load(path), queries, radii=(31,))


def test_compact_keeps_every_live_entry():
    rng = np.random.default_rng(7)
    hashes, ids = planted(rng, 8_000)
    index, model = PDQIndex.build(hashes, ids), Model(hashes, ids)
    index.add(hashes[:100], np.arange(-100, 0))
    model.add(hashes[:100], np.arange(-100, 0))
    assert index.remove(ids[:300]) == model.remove(ids[:300])
    index.compact()
    model.check(index, queries_for(rng, model.hashes, 16))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.sampled_from([0, 1, 500, 5_000]),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 5_000)), max_size=5),
)
@pytest.mark.slow
def test_any_sequence_of_changes_matches_brute_force(seed, size, steps):
    rng = np.random.default_rng(seed)
    hashes, ids = planted(rng, size)
    index, model = PDQIndex.build(hashes, ids, delta_limit=6_000), Model(hashes, ids)
    for step, (adding, count) in enumerate(steps):
        if adding or not len(model.ids):
            source = model.hashes if len(model.ids) else random_hashes(rng, 1)
            new = flipped(rng, source[rng.integers(0, len(source), count)], rng.integers(0, 40, count))
            new_ids = rng.integers(-(10**6), 10**6, count)  # repeats some ids on purpose
            index.add(new, new_ids)
            model.add(new, new_ids)
        else:
            gone = rng.choice(model.ids, min(count, len(model.ids)), replace=False)
            assert index.remove(gone) == model.remove(gone), f"step {step}"
    if len(model.ids):
        model.check(index, queries_for(rng, model.hashes, 4), radii=(0, 31))


def bits_to_bytes(bits):
    return np.packbits(np.asarray(bits, np.uint8))


def test_query_variants_finds_a_rotated_copy(shared):
    image = np.asarray(Image.open(shared / "vectors/pdq/images/bridge-mods/aaa-orig.jpg").convert("RGB"))
    variants, _ = pdqhash.compute_dihedral(image)
    variants = np.stack([bits_to_bytes(v) for v in variants])
    rotated, _ = pdqhash.compute(np.ascontiguousarray(np.rot90(image)))
    rng = np.random.default_rng(8)
    stored = np.concatenate([bits_to_bytes(rotated)[None], random_hashes(rng, 20_000)])
    stored_ids = np.arange(len(stored)) + 7
    index = PDQIndex.build(stored, stored_ids)

    assert 7 not in answer(index.query(variants[0])), "the plain hash misses the rotated copy"
    found = answer(index.query_variants(variants))
    assert 7 in found and found[7] <= 10
    union = {}
    for variant in variants:
        for entry, d in brute_force(stored, stored_ids, variant, 31).items():
            union[entry] = min(union.get(entry, 999), d)
    assert found == union
    assert_sorted(index.query_variants(variants))


def hashlist(shared, name):
    with open(shared / "vectors/pdq/hashlists" / name, encoding="utf-8") as f:
        return np.stack([np.frombuffer(bytes.fromhex(r.value), np.uint8) for r in lists.read_local(f, "pdq")])


def test_threatexchange_haystack_and_needles(shared):
    haystack, needles = hashlist(shared, "haystack.txt"), hashlist(shared, "needles.txt")
    ids = np.arange(len(haystack))
    grown = PDQIndex()
    grown.add(haystack, ids)
    for index in (PDQIndex.build(haystack, ids), grown):
        found = 0
        for radius in (0, 31, 63):
            for needle, matches in zip(needles, index.query_batch(needles, radius), strict=True):
                assert answer(matches) == brute_force(haystack, ids, needle, radius)
                found += len(matches)
        assert found > len(needles)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("ab" * 31, "value 0 is not 64 hexadecimal digits"),
        ("zz" * 32, "value 0 is not 64 hexadecimal digits"),
        (b"\x01" * 31, "value 0 is not 64 hexadecimal digits"),
        (np.zeros(31, np.uint8), "uint8 array"),
        (np.zeros(32, np.int64), "uint8 array"),
    ],
)
def test_bad_hashes_raise_typed_errors_that_do_not_echo_the_value(bad, message):
    index = PDQIndex.build(random_hashes(np.random.default_rng(9), 100), range(100))
    with pytest.raises(IndexInputError, match=message) as caught:
        index.query(bad)
    assert isinstance(caught.value, MatchIndexError) and isinstance(caught.value, ValueError)
    if isinstance(bad, str):
        assert bad not in str(caught.value)


def test_bad_arguments_raise_typed_errors():
    rng = np.random.default_rng(10)
    index = PDQIndex.build(random_hashes(rng, 100), range(100))
    good = random_hashes(rng, 2)
    with pytest.raises(IndexInputError, match="value 1 is not"):
        index.query_batch([good[0].tobytes().hex(), "ab " * 21 + "a"])
    for radius in (-1, 64, 31.0, True, "31"):
        with pytest.raises(IndexInputError, match="radius"):
            index.query(good[0], radius)
    with pytest.raises(IndexInputError, match="query takes one hash"):
        index.query(good)
    with pytest.raises(IndexInputError, match="expected hex strings"):
        index.query_batch(12345)
    with pytest.raises(IndexInputError, match="2 ids for 3 values"):
        index.add(random_hashes(rng, 3), [1, 2])
    with pytest.raises(IndexInputError, match="integers"):
        index.add(good, [1.5, 2.5])
    with pytest.raises(IndexInputError, match="integers"):
        index.remove(["a"])
    with pytest.raises(IndexInputError, match="64-bit"):
        index.add(good[:1], [2**64 - 1])
    assert len(index) == 100


def test_damaged_or_foreign_files_raise_index_file_error(tmp_path):
    rng = np.random.default_rng(11)
    PDQIndex.build(random_hashes(rng, 5_000), range(5_000)).save(tmp_path / "pdq")
    ExactIndex.build(16, random_hashes(rng, 10)[:, :16], range(10)).save(tmp_path / "md5")
    data = (tmp_path / "pdq").read_bytes()
    (tmp_path / "short").write_bytes(data[: len(data) // 2])
    (tmp_path / "text").write_text("pdq " + "0" * 64)
    for name, kind, message in [
        ("md5", PDQIndex, "'exact' index"),
        ("pdq", ExactIndex, "'pdq' index"),
        ("short", PDQIndex, "truncated"),
        ("text", PDQIndex, "not an OpenMNR index"),
        ("missing", PDQIndex, "cannot read"),
    ]:
        with pytest.raises(IndexFileError, match=message):
            kind.load(tmp_path / name)


@pytest.mark.parametrize("kind", ["md5", "sha256"])
def test_exact_index(kind, tmp_path):
    rng = np.random.default_rng(12)
    size = DIGEST_SIZES[kind]
    digests = rng.integers(0, 256, (5_000, size), dtype=np.uint8)
    digests[100] = digests[7]  # one digest stored under two ids
    digests[200, -4:] = 0  # trailing zero bytes are part of the digest
    ids = np.arange(5_000) * 3
    index = ExactIndex.build(size, [d.tobytes().hex() for d in digests], ids)
    assert index.query(digests[7]).tolist() == [21, 300]
    assert index.query(digests[200].tobytes()).tolist() == [600]
    trimmed = digests[200].copy()
    trimmed[-4:] = [0, 0, 0, 1]
    assert index.query(trimmed).tolist() == []
    misses = rng.integers(0, 256, (3, size), dtype=np.uint8)
    assert [a.tolist() for a in index.query_batch(np.concatenate([digests[:2], misses]))] == [
        [0],
        [3],
        [],
        [],
        [],
    ]

    index.add(misses[:1], [7])
    index.add(misses[1:], [8, 8])
    assert index.remove([21, 8]) == 3
    assert index.query(digests[7]).tolist() == [300]
    assert index.query(misses[0]).tolist() == [7]
    assert index.query(misses[1]).tolist() == []
    index.add(misses[1:2].tobytes().hex().upper(), [21])
    assert index.query(misses[1]).tolist() == [21]
    assert len(index) == 5_000 - 1 + 1 + 1

    index.save(tmp_path / "exact")
    loaded = ExactIndex.load(tmp_path / "exact")
    assert loaded.digest_size == size and len(loaded) == len(index)
    sample = np.concatenate([digests[::97], misses])
    assert [a.tolist() for a in loaded.query_batch(sample)] == [a.tolist() for a in index.query_batch(sample)]
    assert loaded.remove([300, 21, 999_999]) == 2  # 21 now holds only misses[1]
    assert loaded.query(digests[7]).tolist() == []
    assert loaded.query(misses[1]).tolist() == []
    assert loaded.query(digests[8]).tolist() == [24]

    with pytest.raises(IndexInputError, match=f"value 0 is not {2 * size} hexadecimal digits"):
        index.query("00" * (size - 1))
    with pytest.raises(IndexInputError, match="digest size"):
        ExactIndex(20)


def test_exact_index_merges_its_delta():
    rng = np.random.default_rng(13)
    index = ExactIndex(16, delta_limit=100)
    digests = rng.integers(0, 256, (1_000, 16), dtype=np.uint8)
    for start in range(0, 1_000, 70):
        index.add(digests[start : start + 70], np.arange(start, min(start + 70, 1_000)))
    index.remove(range(0, 1_000, 2))
    assert len(index) == 500
    assert [a.tolist() for a in index.query_batch(digests[:6])] == [[], [1], [], [3], [], [5]]
