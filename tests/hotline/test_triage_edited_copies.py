"""Triage finds a turned or mirrored copy of known material by its PDQ (the copy's bytes, so its
digests, differ), as the match API does, and does not when the setting is off."""

import io

import pytest
from PIL import Image

from helpers import confirmed_entry, report_by_form
from openmnr.hotline.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pdq_bank(make_user):
    """A bank of confirmed CSAM holding the PDQ of a picture (four eyes as in production)."""
    from openmnr.banks import services as banks
    from openmnr.banks.models import Bank

    def make(data: bytes):
        admin, analyst = make_user("administrator"), make_user("analyst")
        seniors = make_user("senior_analyst"), make_user("senior_analyst")
        bank = banks.save_bank(
            Bank(
                name="Confirmed material", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]
            ),
            match_accounts=[],
            by=admin,
        )
        value = banks.hash_upload(data)["pdq"].value
        confirmed_entry(
            bank, "pdq", value, by=analyst, seniors=seniors, category="A", age_group="prepubescent", flags=[]
        )

    return make


def _mirrored(path) -> bytes:
    out = io.BytesIO()
    Image.open(path).convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.mark.parametrize("dihedral", [True, False])
def test_a_mirrored_copy_of_known_material_is_known_unless_the_setting_is_off(
    settings, client, site, corpus, pdq_bank, worker, dihedral
):
    settings.MATCH_DIHEDRAL = dihedral
    pdq_bank(corpus["astronaut"].read_bytes())
    site.serve("/img/m.jpg", _mirrored(corpus["astronaut"]))
    report_by_form(client, site.page("/gallery.html", "/img/m.jpg"))
    worker()

    case = Case.objects.get()
    [item] = case.items.all()
    assert item.matched is dihedral
    if dihedral:
        assert case.state == "assessed" and item.auto_assessed and item.assessment == "baseline"
        [found] = item.match_detail
        assert found["signal_type"] == "pdq" and found["distance"] <= 8
    else:
        assert case.state == "triaged" and not item.auto_assessed
