"""Edited copies through every matching path: a turned, mirrored or bordered copy of a bank
picture matches (at the distance of its nearest probe), and with the settings off it does not."""

import io

import pytest
from PIL import Image, ImageOps

from helpers import bank_with_image
from openmnr.accounts import apikeys
from openmnr.banks import services
from openmnr.core.signals import pdq

TURNS = {
    "rotate 90": Image.Transpose.ROTATE_90,
    "rotate 180": Image.Transpose.ROTATE_180,
    "rotate 270": Image.Transpose.ROTATE_270,
    "mirror": Image.Transpose.FLIP_LEFT_RIGHT,
    "flip top-bottom": Image.Transpose.FLIP_TOP_BOTTOM,
}


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _turned(data: bytes, turn) -> bytes:
    return _jpeg(Image.open(io.BytesIO(data)).transpose(turn))


def _bordered(data: bytes, share: float = 0.2) -> bytes:
    """The picture centred on a black canvas ``share`` larger on each axis."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    pad = (round(image.width * share / 2), round(image.height * share / 2))
    return _jpeg(ImageOps.expand(image, border=(pad[0], pad[1], pad[0], pad[1]), fill="black"))


@pytest.fixture
def listed(shared):
    return (shared / "corpus" / "natural" / "astronaut-01.jpg").read_bytes()


@pytest.fixture
def loaded(make_bank, make_user, seniors, listed):
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    return bank_with_image(bank, listed, make_user("analyst"), seniors)


@pytest.fixture
def industry(make_user):
    user = make_user("industry_member")
    _, text = apikeys.create_api_key(owner=user, name="platform", scopes=["banks.match_hashes"])
    return {"Authorization": f"Bearer {text}"}


def _match(client, data: bytes, headers=None) -> dict:
    file = io.BytesIO(data)
    file.name = "picture.jpg"
    response = client.post("/api/v1/match", {"file": file}, headers=headers or {})
    assert response.status_code == 200, response.content
    return response.json()["results"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("turn", TURNS.values(), ids=TURNS.keys())
def test_a_turned_or_mirrored_copy_matches_at_its_best_variants_distance(staff_client, loaded, listed, turn):
    stored = loaded["pdq"].value
    copy = _turned(listed, turn)
    assert pdq.distance(pdq.hash_media(copy).value, stored) > 31  # PDQ alone misses it
    # What the copy's own turns and mirrors hash to, each from the turned pixels.
    best = min(pdq.distance(variant, stored) for variant in pdq.hash_dihedral_exact(copy)[:8])

    client, _ = staff_client("analyst")
    found = _match(client, copy)
    assert found["match"] and found["action"] == "confirmed_csam"
    [match] = found["matches"]  # the bytes differ: no MD5 match
    assert match["signal_type"] == "pdq"
    assert match["distance"] == best <= 8


@pytest.mark.django_db
def test_industry_members_find_turned_copies_by_default(client, loaded, listed, industry):
    for turn in TURNS.values():
        assert _match(client, _turned(listed, turn), industry) == {"match": True, "action": "confirmed_csam"}


@pytest.mark.django_db
def test_with_the_dihedral_setting_off_a_turned_copy_does_not_match(
    settings, client, loaded, listed, industry
):
    settings.MATCH_DIHEDRAL = False
    for turn in TURNS.values():
        assert _match(client, _turned(listed, turn), industry) == {"match": False, "action": None}
    assert _match(client, listed, industry)["match"]  # the picture itself still does


@pytest.mark.django_db
def test_a_bordered_copy_matches_unless_trimming_is_off(settings, client, loaded, listed, industry):
    copy = _bordered(listed, 0.2)
    assert pdq.distance(pdq.hash_media(copy).value, loaded["pdq"].value) > 31
    assert _match(client, copy, industry)["match"]
    settings.MATCH_TRIM = False
    assert not _match(client, copy, industry)["match"]


@pytest.mark.django_db
def test_the_match_page_finds_a_turned_copy(staff_client, loaded, listed):
    client, _ = staff_client("analyst")
    file = io.BytesIO(_turned(listed, Image.Transpose.ROTATE_90))
    file.name = "turned.jpg"
    page = client.post("/staff/banks/match/", {"file": file})
    assert page.status_code == 200
    assert "Match: <strong>Confirmed CSAM</strong>" in page.content.decode()


@pytest.mark.django_db
def test_an_unrelated_picture_still_does_not_match(client, loaded, shared, industry):
    other = (shared / "corpus" / "natural" / "chelsea-03.jpg").read_bytes()
    for data in (other, _turned(other, Image.Transpose.ROTATE_90), _bordered(other)):
        assert _match(client, data, industry) == {"match": False, "action": None}


@pytest.mark.django_db
@pytest.mark.parametrize("side", [64, 96, 160])
def test_small_pictures_turned_match_closely(make_bank, make_user, seniors, client, industry, listed, side):
    """Small pictures: the sign-change variants of a small picture's hash are 12-22 bits from the
    turned picture's hash (the samples are not symmetric about the centre); the exact variants,
    hashed from the turned pixels, are within a few bits, so a turned small copy still matches
    well inside the radius."""
    image = Image.open(io.BytesIO(listed)).convert("RGB")
    small = _jpeg(image.resize((side, side * image.height // image.width), Image.Resampling.LANCZOS), 95)
    bank = make_bank(name="small")
    stored = bank_with_image(bank, small, make_user("analyst"), seniors)["pdq"].value
    gaps = []
    for turn in TURNS.values():
        copy = _turned(small, turn)
        exact = min(pdq.distance(v, stored) for v in pdq.hash_dihedral_exact(copy)[:8])
        gaps.append(min(pdq.distance(v, stored) for v in pdq.hash_dihedral(copy)[:8]))
        assert exact <= 8
        assert _match(client, copy, industry)["match"]
    if side == 160:  # a size where the sign-change variants alone miss turned copies
        assert max(gaps) > 31


def test_hashing_for_matching_adds_probes_and_plain_hashing_does_not(listed, settings):
    settings.BANKS_ISOLATE_DECODE = False
    plain = services.hash_upload(listed)["pdq"]
    probed = services.hash_upload(listed, for_matching=True)["pdq"]
    assert plain.value == probed.value and not plain.probes and not plain.extra_probes
    assert 7 <= len(probed.probes) <= 14  # the turns and mirrors, both ways, deduplicated
    settings.MATCH_DIHEDRAL = settings.MATCH_TRIM = False
    assert not services.hash_upload(listed, for_matching=True)["pdq"].probes
