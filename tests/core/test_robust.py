"""Matching that survives edits: exact dihedral variants, border trimming, query probes, local features."""

import csv
import io
from math import comb

import numpy as np
import pytest
from PIL import Image, ImageFilter

from openmnr.core import media
from openmnr.core.index import PDQIndex
from openmnr.core.robust import features, probes, trim
from openmnr.core.signals import _pdq_dct, pdq

TURNS = {
    "rotate90": Image.Transpose.ROTATE_90,
    "rotate180": Image.Transpose.ROTATE_180,
    "rotate270": Image.Transpose.ROTATE_270,
    "flip_x": Image.Transpose.FLIP_TOP_BOTTOM,
    "flip_y": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip_plus1": Image.Transpose.TRANSPOSE,
    "flip_minus1": Image.Transpose.TRANSVERSE,
}


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def corpus(shared) -> list[dict]:
    """Every sixth corpus picture (34), with its source image."""
    folder = shared / "corpus/natural"
    with open(folder / "SOURCES.csv", newline="") as file:
        rows = list(csv.DictReader(file))[::6]
    return [{"path": folder / row["file"], "source": row["source_image"]} for row in rows]


@pytest.fixture(scope="module")
def smallest(corpus) -> list:
    """The eight smallest of those pictures (under 400 pixels a side): where the sign-change
    variants are furthest off."""
    return sorted((c["path"] for c in corpus), key=lambda p: Image.open(p).size[0] * Image.open(p).size[1])[
        :8
    ]


@pytest.mark.parametrize("mode", pdq.MODES)
def test_exact_variants_are_the_hashes_of_the_turned_pictures(smallest, mode):
    worst_exact, worst_signs = 0, 0
    for path in smallest if mode == "fast" else smallest[:4]:
        exact = pdq.hash_dihedral_exact(path, mode=mode)
        signs = pdq.hash_dihedral(path, mode=mode)
        picture = Image.open(path).convert("RGB")
        assert exact.original == pdq.hash_media(path, mode=mode).value
        for name, turn in TURNS.items():
            turned = pdq.hash_media(png(picture.transpose(turn)), mode=mode).value
            worst_exact = max(worst_exact, pdq.distance(getattr(exact, name), turned))
            worst_signs = max(worst_signs, pdq.distance(getattr(signs, name), turned))
    # Reference mode hashes the turned pixels with the reference itself; fast mode stays within
    # its own tolerance. The sign changes are the known gap this closes.
    assert worst_exact == 0 if mode == "reference" else worst_exact <= 6
    assert worst_signs > worst_exact


@pytest.mark.parametrize("scale", [1.0, 0.3, 0.05])
@pytest.mark.parametrize("encode", [jpeg, png])
def test_the_shared_first_pass_samples_each_mirrored_picture_as_sampling_it_anew_would(corpus, scale, encode):
    """``dihedral_from_reduced`` samples four mirrorings from two first passes; each must be, bit
    for bit, what a full sampling of the mirrored plane gives (JPEG-scaled and box-averaged
    decodes, large and small pictures)."""
    for item in corpus[:4]:
        image = Image.open(item["path"]).convert("RGB")
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        reduced = media.decode_reduced(encode(image.resize(size)), pdq.FAST_MIN_SIDE)
        grey, (rows, cols) = np.asarray(reduced.grey), reduced.reversed_axes
        for (mirror_rows, mirror_cols), (dct, quality) in _pdq_dct._mirrored_dcts(reduced).items():
            anew = _pdq_dct._dct_from_grey(
                grey[:: -1 if mirror_rows else 1, :: -1 if mirror_cols else 1],
                reduced.full_size,
                reduced.scale,
                reduced.jpeg_scaled,
                (rows != mirror_rows, cols != mirror_cols),
            )
            assert np.array_equal(dct, anew[0]) and quality == anew[1]
        turned, plain = pdq.dihedral_from_reduced(reduced), pdq.hash_reduced(reduced)
        assert (turned.exact[0], turned.quality) == (plain.value, plain.quality)


def test_a_turned_or_mirrored_copy_matches_at_its_best_variants_distance(corpus):
    bank = [pdq.hash_media(c["path"]).value for c in corpus]
    index = PDQIndex.build(bank, range(len(bank)))
    for number, item in enumerate(corpus[:12]):
        picture = Image.open(item["path"]).convert("RGB")
        turn = list(TURNS.values())[number % len(TURNS)]
        found = probes.probes(jpeg(picture.transpose(turn)))
        best = min(pdq.distance(value, bank[number]) for value in found.primary + found.extra)
        answer = dict(probes.search(index, found))
        assert answer[number] == best <= pdq.MATCH_THRESHOLD
        assert probes.best_distance(found, bank[number]) == best
        # Without the probes, PDQ alone misses the turned copy.
        assert pdq.distance(found.primary[0], bank[number]) > pdq.MATCH_THRESHOLD


def test_the_first_probe_is_the_plain_hash_so_nothing_pdq_finds_is_lost(corpus):
    for item in corpus[:6]:
        settings = probes.ProbeSettings(rotations=(-2.0, 2.0), crop_fill=(0.1,))
        found = probes.probes(item["path"], settings)
        plain = pdq.hash_media(item["path"])
        assert found.primary[0] == plain.value
        assert found.quality == plain.quality
        assert found.radius == pdq.MATCH_THRESHOLD
        assert found.extra_radius == probes.binomial_radius(len(found.extra))


def test_extra_probes_are_searched_at_a_radius_that_keeps_their_chance_of_a_false_match(corpus):
    def tail(r):
        return sum(comb(256, k) for k in range(r + 1))

    assert probes.binomial_radius(0) == 31
    radii = [probes.binomial_radius(k) for k in range(1, 400)]
    assert radii == sorted(radii, reverse=True)
    for extra, radius in zip(range(1, 400), radii, strict=True):
        assert extra * tail(radius) <= tail(31) < extra * tail(radius + 1) or radius == 31


def bordered(picture: Image.Image, share: float, kind: str) -> Image.Image:
    w, h = picture.size
    size = (round(w * (1 + share)), round(h * (1 + share)))
    if kind == "blurred":
        canvas = picture.resize(size).filter(ImageFilter.GaussianBlur(max(8, min(size) / 25)))
    else:
        canvas = Image.new(
            "RGB", size, {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128)}[kind]
        )
    canvas.paste(picture, ((size[0] - w) // 2, (size[1] - h) // 2))
    return canvas


@pytest.mark.parametrize("kind", ["black", "white", "grey", "blurred"])
def test_a_trimmed_border_gives_the_unbordered_pictures_hash(corpus, kind):
    distances, radii = [], []
    for item in corpus:
        picture = Image.open(item["path"]).convert("RGB")
        copy = jpeg(bordered(picture, 0.2, kind))
        found = probes.probes(copy, probes.ProbeSettings(dihedral=False))
        original = pdq.hash_media(item["path"]).value
        assert pdq.distance(found.primary[0], original) > pdq.MATCH_THRESHOLD  # PDQ alone misses
        distances.append(min(pdq.distance(value, original) for value in found.extra) if found.extra else 256)
        radii.append(found.extra_radius)
    within = np.mean(np.array(distances) <= np.array(radii))
    if kind == "blurred":
        # A blurred fill behind a smooth picture is hardly smoother than the picture: found less often.
        assert within >= 0.5
    else:
        # A solid band is found exactly: the trimmed hash is the picture's, give or take re-encoding.
        assert within >= 0.9
        assert np.median(distances) <= 12


def test_trimming_finds_the_box_of_a_letterboxed_picture():
    rng = np.random.default_rng(3)
    picture = (rng.random((180, 320)) * 255).astype(np.uint8)
    framed = np.zeros((320, 320), np.uint8)
    framed[70:250] = picture
    assert trim.content_box(framed) == trim.Box(70, 250, 0, 320)
    assert trim.content_box(picture) is None  # nothing to trim
    assert trim.content_box(np.full((200, 200), 90, np.uint8)) is None  # flat: nothing left


def test_local_features_survive_crops_borders_and_rotations_and_reject_other_pictures(corpus):
    corpus = corpus[::2]
    bank = features.FeatureIndex()
    for number, item in enumerate(corpus):
        bank.add(number, features.extract(item["path"]))
    edits = {
        "crop 10% one side": lambda p: p.crop((p.width // 10, 0, p.width, p.height)),
        "rotation 4 degrees": lambda p: p.rotate(4, resample=Image.Resampling.BICUBIC),
        "border 20%": lambda p: bordered(p, 0.2, "black"),
    }
    for name, edit in edits.items():
        found, wrong = 0, 0
        for number, item in enumerate(corpus):
            query = features.extract(
                jpeg(edit(Image.open(item["path"]).convert("RGB"))), features.QUERY_POINTS
            )
            hits = {entry for entry, _ in bank.query(query)}
            found += number in hits
            wrong += sum(corpus[entry]["source"] != item["source"] for entry in hits)
        assert found >= 0.8 * len(corpus), name
        assert wrong == 0, name


def test_features_round_trip_through_bytes_and_refuse_damage(corpus):
    extracted = features.extract(corpus[0]["path"])
    assert 0 < len(extracted) <= features.ENTRY_POINTS
    data = extracted.to_bytes()
    assert len(data) == 3 + 36 * len(extracted)
    back = features.Features.from_bytes(data)
    assert np.array_equal(back.descriptors, extracted.descriptors)
    assert np.abs(back.points - extracted.points).max() < 1e-4
    assert features.inliers(back, extracted) >= features.MIN_INLIERS
    for damaged in (b"", data[:-1], b"\x09" + data[1:]):
        with pytest.raises(features.InvalidFeatures):
            features.Features.from_bytes(damaged)


def test_an_entry_removed_from_the_feature_index_is_no_longer_found(corpus):
    bank = features.FeatureIndex()
    for number, item in enumerate(corpus[:4]):
        bank.add(number, features.extract(item["path"]))
    query = features.extract(corpus[2]["path"], features.QUERY_POINTS)
    assert bank.query(query)[0][0] == 2
    bank.remove(2)
    assert 2 not in {entry for entry, _ in bank.query(query)}
    assert len(bank) == 3
