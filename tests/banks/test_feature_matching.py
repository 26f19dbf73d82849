"""Local features in the banks (OPENMNR_MATCH_FEATURES): a picture proposed with the setting on
keeps its keypoints, and an upload no hash matches is checked against them, so a cropped or
slightly rotated copy of a bank picture is found, and an unrelated picture is not. With the
setting off the same copies are not found (PDQ and its probes miss them)."""

import io

import pytest
from PIL import Image

from openmnr.accounts import apikeys
from openmnr.banks import services
from openmnr.banks.models import BankEntry, EntryKeypoints
from openmnr.core.robust import features


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _cropped(data: bytes, share: float = 0.10) -> bytes:
    """The picture with ``share`` of its width cut off at the left."""
    image = Image.open(io.BytesIO(data))
    return _jpeg(image.crop((round(image.width * share), 0, image.width, image.height)))


def _rotated(data: bytes, degrees: float = 4) -> bytes:
    """The picture turned by a few degrees, same size, black corners."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return _jpeg(image.rotate(degrees, resample=Image.Resampling.BILINEAR))


EDITS = {"crop 10% one side": _cropped, "rotation 4 degrees": _rotated}


@pytest.fixture
def corpus(shared):
    return shared / "corpus" / "natural"


@pytest.fixture
def listed(corpus):
    return (corpus / "astronaut-01.jpg").read_bytes()


@pytest.fixture
def features_on(settings):
    settings.MATCH_FEATURES = True
    return settings


def _confirmed_picture(bank, data, analyst, seniors) -> BankEntry:
    entry = services.propose_picture(bank, data, classification="baseline", category="demo", by=analyst)
    for senior in seniors:
        entry = services.confirm_entry(entry, by=senior)
    assert entry.status == BankEntry.Status.ACTIVE
    return entry


@pytest.fixture
def loaded(features_on, make_bank, make_user, seniors, listed):
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    return _confirmed_picture(bank, listed, make_user("analyst"), seniors)


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
@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_cropped_or_slightly_rotated_copy_matches_by_its_features(client, loaded, listed, industry, edit):
    assert _match(client, edit(listed), industry) == {"match": True, "action": "confirmed_csam"}


@pytest.mark.django_db
@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_with_the_setting_off_the_same_copy_does_not_match(client, loaded, listed, industry, settings, edit):
    settings.MATCH_FEATURES = False
    assert _match(client, edit(listed), industry) == {"match": False, "action": None}
    assert _match(client, listed, industry)["match"]  # the picture itself still does


@pytest.mark.django_db
def test_staff_see_that_local_features_found_it_and_never_the_keypoints(staff_client, loaded, listed):
    client, _ = staff_client("analyst")
    found = _match(client, _cropped(listed))
    [match] = found["matches"]
    assert match["entry_id"] == loaded.pk and match["signal_type"] == "pdq"
    assert match["method"] == "features" and match["inliers"] >= features.MIN_INLIERS
    assert match["distance"] > 31  # beyond the PDQ radius: why the hash alone missed it
    assert set(match) == {
        "bank_id", "bank", "purpose", "entry_id", "signal_type", "distance", "classification",
        "category", "query_match_percent", "entry_match_percent", "method", "inliers",
    }  # fmt: skip
    # A copy the hash finds is reported as a hash match, without running the feature check.
    [exact] = [m for m in _match(client, listed)["matches"] if m["signal_type"] == "pdq"]
    assert exact["method"] == "hash" and exact["inliers"] is None


@pytest.mark.django_db
def test_the_match_page_says_local_features_found_it(staff_client, loaded, listed):
    client, _ = staff_client("analyst")
    file = io.BytesIO(_rotated(listed))
    file.name = "picture.jpg"
    response = client.post("/staff/banks/match/", {"file": file})
    assert response.status_code == 200
    assert "found by local features" in response.content.decode()


@pytest.mark.django_db
def test_an_unrelated_picture_does_not_match(client, loaded, corpus, industry):
    for name in ("brick-03.jpg", "camera-05.jpg", "text-02.jpg"):
        assert _match(client, (corpus / name).read_bytes(), industry)["match"] is False


@pytest.mark.django_db
def test_a_disabled_entry_is_no_longer_found_by_its_features(client, loaded, listed, industry, make_user):
    copy = _cropped(listed)
    assert _match(client, copy, industry)["match"]
    services.disable_entry(loaded, by=make_user("senior_analyst"), reason="test")
    assert _match(client, copy, industry) == {"match": False, "action": None}


@pytest.mark.django_db
def test_an_entry_awaiting_confirmation_is_not_found(
    features_on, client, make_bank, make_user, listed, industry
):
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    entry = services.propose_picture(bank, listed, classification="baseline", by=make_user("analyst"))
    assert entry.status == BankEntry.Status.PENDING and EntryKeypoints.objects.filter(entry=entry).exists()
    assert _match(client, _rotated(listed), industry)["match"] is False


@pytest.mark.django_db
def test_only_a_picture_proposed_with_the_setting_on_keeps_keypoints(settings, make_bank, make_user, corpus):
    bank = make_bank(name="Partner list (test)", purpose="partner_list")
    analyst = make_user("senior_analyst")
    settings.MATCH_FEATURES = False
    without = services.propose_picture(
        bank, (corpus / "coins-01.jpg").read_bytes(), classification="baseline", by=analyst
    )
    settings.MATCH_FEATURES = True
    kept = services.propose_picture(
        bank, (corpus / "coins-02.jpg").read_bytes(), classification="baseline", by=analyst
    )
    assert not EntryKeypoints.objects.filter(entry=without).exists()
    stored = features.Features.from_bytes(bytes(EntryKeypoints.objects.get(entry=kept).data))
    assert len(stored) == features.BANK_POINTS
    assert without.signal_type == kept.signal_type == "pdq" and kept.quality is not None


@pytest.mark.django_db
def test_a_video_or_a_flat_picture_cannot_be_proposed_as_a_picture(features_on, make_bank, make_user):
    bank = make_bank(name="Partner list (test)", purpose="partner_list")
    with pytest.raises(services.InvalidInput):
        flat = _jpeg(Image.new("RGB", (300, 300), (128, 128, 128)))
        services.propose_picture(bank, flat, classification="baseline", by=make_user("senior_analyst"))
    assert not BankEntry.objects.filter(bank=bank).exists()


@pytest.mark.django_db
def test_a_picture_proposed_on_the_bank_page_keeps_its_keypoints(
    features_on, staff_client, make_bank, corpus
):
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    client, analyst = staff_client("analyst")
    page = client.get(f"/staff/banks/{bank.pk}/")
    assert "Propose a picture" in page.content.decode() and "keeps its keypoints" in page.content.decode()
    file = io.BytesIO((corpus / "rocket-03.jpg").read_bytes())
    file.name = "picture.jpg"
    form = {"file": file, "classification": "baseline", "category": "", "source_ref": "case 7"}
    response = client.post(f"/staff/banks/{bank.pk}/propose-picture/", form)
    assert response.status_code == 302 and response["Location"] == f"/staff/banks/{bank.pk}/"
    [entry] = BankEntry.objects.filter(bank=bank)
    assert entry.signal_type == "pdq" and entry.status == BankEntry.Status.PENDING
    assert entry.proposed_by == analyst and EntryKeypoints.objects.filter(entry=entry).count() == 1
    follow = client.get(response["Location"])
    assert "with its keypoints" in follow.content.decode()
    # Not a picture: the form comes back with the reason, and nothing is written.
    bad = io.BytesIO(b"not a picture")
    bad.name = "notes.txt"
    form = {"file": bad, "classification": "baseline"}
    response = client.post(f"/staff/banks/{bank.pk}/propose-picture/", form)
    assert response.status_code == 400 and BankEntry.objects.filter(bank=bank).count() == 1


@pytest.mark.django_db
def test_past_the_cap_only_the_newest_entries_are_checked_by_features(
    features_on, client, make_bank, make_user, seniors, corpus, industry
):
    features_on.MATCH_FEATURES_MAX_ENTRIES = 1
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    analyst = make_user("analyst")
    older, newer = ((corpus / name).read_bytes() for name in ("astronaut-01.jpg", "rocket-03.jpg"))
    _confirmed_picture(bank, older, analyst, seniors)
    _confirmed_picture(bank, newer, analyst, seniors)
    assert _match(client, _cropped(newer), industry)["match"]
    assert _match(client, _cropped(older), industry)["match"] is False
    assert _match(client, older, industry)["match"]  # still found by its hash
