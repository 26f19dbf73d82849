"""What an analyst records about an item and a case (issue: the ICCAM and CyberTipline vocabulary):
gender, content type, the virtual / AI-generated / self-generated flags, the site; the baseline
rule; what known material takes over from its bank entry; and the classify form itself."""

import re

import pytest
from django.test import Client

from helpers import sign_in_client
from openmnr.core.vocabulary import vocabulary
from openmnr.hotline import triage
from openmnr.hotline.classification import Assessment, Classification, validate
from openmnr.hotline.errors import InvalidClassification
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case

pytestmark = pytest.mark.django_db


def triaged_case(site, *media) -> Case:
    for path, file in media:
        site.image(path, file)
    page = site.page("/page.html", *[path for path, _ in media])
    case = receive_public(ReportInput(urls=[page])).urls.get().case
    triage.run(case.pk)
    case.refresh_from_db()
    return case


def analyst_on(case, make_user) -> tuple[Client, object]:
    user = make_user("analyst")
    client = sign_in_client(Client(), user)
    assert client.post(f"/staff/hotline/cases/{case.pk}/claim/").status_code == 302
    return client, user


def test_the_assessments_are_the_vocabularys():
    assert list(Assessment.values) == list(vocabulary().list("assessment").codes())


@pytest.mark.parametrize(
    ("item", "error"),
    [
        (Classification("baseline", "A", "pubescent"), "baseline age group"),
        (Classification("baseline", "A", "unknown"), "baseline age group"),
        (Classification("baseline", "A", "prepubescent", flags=("virtual",)), "real child"),
        (Classification("baseline", "A", "infant_toddler", flags=("ai_generated",)), "real child"),
        (Classification("not_illegal", gender="robot"), "not a gender"),
        (Classification("not_illegal", flags=("sparkly",)), "not a flag"),
        (Classification("doubtful", "A", "pubescent"), "only illegal material"),
    ],
)
def test_baseline_needs_a_real_young_child_and_codes_must_be_known(item, error):
    with pytest.raises(InvalidClassification, match=error):
        validate(item)


def test_a_young_real_child_is_baseline_and_ai_generated_is_recorded_as_virtual(settings):
    real = validate(
        Classification("baseline", "A", "prepubescent", gender="female", flags=("self_generated",))
    )
    assert real.flags == ("self_generated",)
    ai = validate(Classification("nationally_illegal", "C", "pubescent", flags=("ai_generated",)))
    assert ai.flags == ("ai_generated", "virtual")  # AI-generated is a kind of virtual material

    settings.HOTLINE_VIRTUAL_CAN_BE_ILLEGAL = False  # a country whose law covers real children only
    with pytest.raises(InvalidClassification, match="not illegal under this country's law"):
        validate(Classification("nationally_illegal", "C", "pubescent", flags=("ai_generated",)))

    settings.HOTLINE_BASELINE_AGE_GROUPS = ["infant_toddler", "prepubescent", "pubescent"]  # configurable
    assert validate(Classification("baseline", "A", "pubescent")).assessment == "baseline"


def test_known_material_takes_its_entrys_age_group_gender_and_flags(site, corpus, known_bank):
    known_bank(
        corpus["astronaut"],
        entry={"age_group": "infant_toddler", "gender": "male", "flags": ["self_generated"]},
    )
    case = triaged_case(site, ("/img/a.jpg", corpus["astronaut"]))
    item = case.items.get()
    assert case.state == "assessed" and item.auto_assessed and not item.needs_review
    assert (item.assessment, item.category, item.age_group, item.gender, item.flags, item.content_type) == (
        "baseline",
        "A",
        "infant_toddler",
        "male",
        ["self_generated"],
        "image",
    )
    assert case.age_group == "infant_toddler"  # the case's age statistics count known material too


def test_an_entry_without_an_age_group_leaves_the_item_for_review_not_empty(
    site, corpus, known_bank, make_user
):
    known_bank(corpus["astronaut"], entry={})  # an entry from before entries recorded age groups
    case = triaged_case(site, ("/img/a.jpg", corpus["astronaut"]))
    item = case.items.get()
    assert case.state == "triaged" and case.has_known_match  # in the queue, first
    assert item.matched and item.needs_review and not item.auto_assessed and item.assessment == ""

    client, _ = analyst_on(case, make_user)
    page = client.get(f"/staff/hotline/cases/{case.pk}/").content.decode()
    assert "needs review" in page
    page = client.get(f"/staff/hotline/items/{item.pk}/").content.decode()
    assert 'id="needs-review"' in page and 'id="classify-form"' in page
    client.post(
        f"/staff/hotline/items/{item.pk}/classify/",
        {"assessment": "baseline", "category": "A", "age_group": "prepubescent", "gender": "female"},
    )
    item.refresh_from_db()
    assert (item.assessment, item.age_group, item.needs_review) == ("baseline", "prepubescent", False)


def test_the_classify_form_shows_current_values_human_labels_and_keeps_input_on_error(
    site, corpus, make_user
):
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    item = case.items.get()
    client, user = analyst_on(case, make_user)

    page = client.get(f"/staff/hotline/items/{item.pk}/").content.decode()
    for label in ("Baseline (illegal internationally)", "Nationally illegal", "Doubtful", "Self-generated"):
        assert label in page
    assert "<kbd>1</kbd>" in page and "classify.js" in page
    assert not re.search(r">\s*(nationally_illegal|not_assessable|self_generated|infant_toddler)\s*<", page)
    assert re.search(r'value="image"[^>]*checked', page)  # the content type triage saw

    sent = {
        "assessment": "baseline",
        "category": "B",
        "age_group": "pubescent",
        "gender": "both",
        "content_type": "image",  # checked on the page, so the browser sends it
        "flags": ["self_generated", "live_streamed"],
    }
    response = client.post(f"/staff/hotline/items/{item.pk}/classify/", sent)
    assert response.status_code == 400
    page = response.content.decode()
    assert "baseline needs a child in a baseline age group (Infant or toddler, Prepubescent)" in page
    for name, value in [
        ("assessment", "baseline"),
        ("category", "B"),
        ("age_group", "pubescent"),
        ("gender", "both"),
        ("flags", "self_generated"),
        ("flags", "live_streamed"),
    ]:
        assert re.search(rf'name="{name}" value="{value}"[^>]*checked', page), (name, value)
    item.refresh_from_db()
    assert item.assessment == ""  # nothing written

    sent["assessment"] = "nationally_illegal"
    client.post(f"/staff/hotline/items/{item.pk}/classify/", sent)
    item.refresh_from_db()
    assert (item.assessment, item.gender, item.flags, item.content_type) == (
        "nationally_illegal",
        "both",
        ["live_streamed", "self_generated"],
        "image",
    )
    page = client.get(f"/staff/hotline/items/{item.pk}/").content.decode()
    assert re.search(r'name="gender" value="both"[^>]*checked', page)  # shown again as recorded
    assert "Live-streamed, Self-generated" in page


def test_the_site_is_recorded_per_case_and_refused_outside_the_vocabulary(site, corpus, make_user):
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    client, _ = analyst_on(case, make_user)
    client.post(
        f"/staff/hotline/cases/{case.pk}/site/",
        {"site_type": "image_board", "commerciality": "commercial", "payment_methods": ["visa", "paypal"]},
    )
    case.refresh_from_db()
    assert (case.site_type, case.commerciality, case.payment_methods) == (
        "image_board",
        "commercial",
        ["visa", "paypal"],
    )
    response = client.post(f"/staff/hotline/cases/{case.pk}/site/", {"site_type": "darknet"}, follow=True)
    assert "Choose the site" in response.content.decode()
    case.refresh_from_db()
    assert case.site_type == "image_board"


def test_items_assessed_before_the_vocabulary_read_not_recorded(site, corpus, make_user):
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    item = case.items.get()
    # As the migration leaves an item assessed earlier: its new fields empty, never guessed.
    type(item).objects.filter(pk=item.pk).update(assessment="not_illegal")
    assert (item.gender, item.content_type, item.flags) == ("", "", None)
    client, _ = analyst_on(case, make_user)
    page = client.get(f"/staff/hotline/items/{item.pk}/").content.decode()
    assert re.search(r'id="item-gender">not recorded<', page)
    assert re.search(r'id="item-flags">not recorded<', page)


def test_docs_hotline_holds_the_vocabulary_table():
    """docs/hotline.md shows the file's mapping; regenerate with python -m openmnr.core.vocabulary.table."""
    from pathlib import Path

    from openmnr.core.vocabulary.table import mapping_tables

    doc = Path(__file__).resolve().parents[2] / "docs" / "hotline.md"
    assert mapping_tables().rstrip() in doc.read_text()


def test_a_baseline_entry_outside_the_baseline_age_groups_does_not_auto_assess(site, corpus, known_bank):
    known_bank(corpus["astronaut"], entry={"age_group": "pubescent", "gender": "", "flags": None})
    case = triaged_case(site, ("/img/a.jpg", corpus["astronaut"]))
    item = case.items.get()
    assert case.state == "triaged" and item.needs_review and item.assessment == ""
