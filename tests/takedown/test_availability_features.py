"""With OPENMNR_MATCH_FEATURES on, a site that put back a cropped copy of a reported picture
instead of removing it has not removed it: the availability check finds the copy by the banks'
local-feature check (a bank entry the reported item matched at triage, the picture proposed as a
picture so it keeps its keypoints). With the setting off the copy counts as gone, as before."""

import pytest

from helpers import confirmed_picture, cropped
from openmnr.core.hosting.dns import StaticResolver
from openmnr.core.takedown.schedule import Check
from openmnr.takedown.availability import check_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def picture_entry(settings, make_bank, make_user, photos):
    """The photo in a confirmed-CSAM bank, proposed as a picture (so with its keypoints)."""
    settings.MATCH_FEATURES = True
    bank = make_bank(name="Confirmed (test)", match_roles=["analyst", "senior_analyst"])
    seniors = make_user("senior_analyst"), make_user("senior_analyst")
    return confirmed_picture(bank, photos["photo"], by=make_user("analyst"), seniors=seniors, category="A")


@pytest.mark.parametrize("on", [True, False])
def test_a_cropped_copy_put_back_is_still_the_content_only_with_local_features(
    settings, site, photos, picture_entry, reported_and_assessed, on
):
    site.serve("/photo.jpg", photos["photo"])
    case = reported_and_assessed(site.page("/gallery", "/photo.jpg"))
    [item] = case.items.all()
    assert [m["entry"] for m in item.match_detail] == [picture_entry.pk]  # triage matched the entry
    assert check_case(case, StaticResolver({})).outcome == Check.ONLINE

    settings.MATCH_FEATURES = on
    site.serve("/photo.jpg", cropped(photos["photo"]))  # cropped instead of removed
    expected = Check.ONLINE if on else Check.NO_MATCH
    assert check_case(case, StaticResolver({})).outcome == expected


def test_an_unrelated_picture_is_not_the_content(
    settings, site, photos, picture_entry, reported_and_assessed
):
    site.serve("/photo.jpg", photos["photo"])
    case = reported_and_assessed(site.page("/gallery", "/photo.jpg"))
    site.serve("/photo.jpg", photos["other"])
    assert check_case(case, StaticResolver({})).outcome == Check.NO_MATCH
