"""With OPENMNR_MATCH_FEATURES on, a report's file that is a cropped copy of a bank picture
(proposed as a picture, so it keeps its keypoints) is known material, found by the banks'
local-feature check as the match API finds it; the file's keypoints are kept only until the report
is matched. With the setting off none are computed and the copy is new material."""

import pytest

from helpers import confirmed_picture, cropped
from openmnr.core.robust import features
from openmnr.industry import intake
from openmnr.industry.importer import _spooled
from openmnr.industry.models import File


@pytest.fixture
def picture_bank(settings, make_bank, make_user, docs):
    """A confirmed-CSAM bank holding the known picture, proposed as a picture (with keypoints)."""
    settings.MATCH_FEATURES = True
    bank = make_bank(name="Confirmed (test)", match_roles=["analyst", "senior_analyst"])
    seniors = make_user("senior_analyst"), make_user("senior_analyst")
    return confirmed_picture(bank, docs.known, by=make_user("analyst"), seniors=seniors, category="A")


@pytest.mark.django_db
@pytest.mark.parametrize("on", [True, False])
def test_a_cropped_copy_of_a_bank_picture_is_known_only_with_local_features(
    settings, tmp_path, provider, picture_bank, docs, on
):
    settings.MATCH_FEATURES = on
    report = intake.submit(provider.user, docs.report())
    path = tmp_path / "upload.jpg"
    path.write_bytes(cropped(docs.known))
    uploaded = intake.upload(provider.user, report.pk, _spooled(path))
    kept = bytes(File.objects.get(pk=uploaded.pk).pdq_keypoints)
    assert (len(features.Features.from_bytes(kept)) > features.MIN_INLIERS) if on else kept == b""

    report, _ids = intake.finish(provider.user, report.pk)
    [file] = report.files.all()
    assert file.matched is on and report.case.known_files == (1 if on else 0)
    assert bytes(file.pdq_keypoints) == b""  # only until the report is matched
    if on:
        [found] = file.match_detail
        assert found["entry"] == picture_bank.pk and found["method"] == "features"
        assert found["inliers"] >= features.MIN_INLIERS and file.assessment == "baseline"
    else:
        assert file.match_detail == []
