"""With OPENMNR_MATCH_FEATURES on, triage finds a cropped copy of a bank picture (proposed as a
picture, so it keeps its keypoints) by the banks' local-feature check, as the match API does;
with the setting off it does not, and no keypoints are computed."""

import pytest

from helpers import confirmed_picture, cropped, report_by_form
from openmnr.core.robust import features
from openmnr.hotline import matching, triage
from openmnr.hotline.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def picture_bank(settings, make_user):
    """A bank of confirmed CSAM holding one picture proposed as a picture, with its keypoints."""
    from openmnr.banks import services as banks
    from openmnr.banks.models import Bank

    def make(data: bytes):
        settings.MATCH_FEATURES = True
        admin = make_user("administrator")
        bank = banks.save_bank(
            Bank(
                name="Confirmed material", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]
            ),
            match_accounts=[],
            by=admin,
        )
        seniors = make_user("senior_analyst"), make_user("senior_analyst")
        return confirmed_picture(
            bank,
            data,
            by=make_user("analyst"),
            seniors=seniors,
            category="A",
            age_group="prepubescent",
            flags=[],
        )

    return make


@pytest.mark.parametrize("on", [True, False])
def test_a_cropped_copy_of_a_bank_picture_is_known_only_with_local_features(
    settings, client, site, corpus, picture_bank, worker, on
):
    entry = picture_bank(corpus["astronaut"].read_bytes())
    settings.MATCH_FEATURES = on
    site.serve("/img/c.jpg", cropped(corpus["astronaut"].read_bytes()))
    report_by_form(client, site.page("/gallery.html", "/img/c.jpg"))
    worker()

    case = Case.objects.get()
    [item] = case.items.all()
    assert item.matched is on
    if on:
        assert case.state == "assessed" and item.auto_assessed and item.assessment == "baseline"
        [found] = item.match_detail
        assert found["entry"] == entry.pk and found["method"] == "features"
        assert found["inliers"] >= features.MIN_INLIERS and found["distance"] > 31
        assert "keypoints" not in found
    else:
        assert case.state == "triaged" and not item.auto_assessed and item.match_detail == []


@pytest.mark.parametrize("on", [True, False])
def test_triage_asks_for_keypoints_only_with_the_setting_on(settings, on):
    settings.MATCH_FEATURES = on
    assert matching.hash_limits(triage.HASH_LIMITS).keypoints == (features.QUERY_POINTS if on else 0)
