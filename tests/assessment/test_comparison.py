"""The regional comparison: levels by capability across countries, the gaps they share and who has
done what others plan, from signed results only, with charts that have text alternatives, and no
ranking of countries."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from openmnr.assessment import comparison, services
from openmnr.assessment.demo import results_package
from openmnr.core.mnr import results as signed

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"
OWN = {3: (1, 3), 4: (1, 1), 12: (0, 3), 16: (0, 2)}
NEIGHBOUR = {3: (2, 3), 4: (2, 2), 12: (2, 3), 16: (1, 2)}
OTHER = {3: (1, 2), 4: (1, 2), 12: (1, 2), 16: (0, 1)}


@pytest.fixture
def region(client, as_user, coordinator, cycle, sign_off, peer):
    """Examplestan signed off here; Otherland's and Neighbourland's signed results imported."""
    for number, (current, target) in OWN.items():
        capability = services.framework_of(cycle).capability(number)
        services.record_capability(
            coordinator, cycle, number, current_level=current, target_level=target,
            criteria_met=[c.id for c in capability.criteria if c.level <= current],
            confidence="medium", stakeholder="Ministry",
        )  # fmt: skip
    sign_off(cycle)
    as_user(coordinator)
    for country, levels in (("Otherland", OTHER), ("Neighbourland", NEIGHBOUR)):
        body = results_package(country, levels, peer(country), 2026)
        response = client.post(f"{BASE}comparison/import/", {"package": SimpleUploadedFile("r.zip", body)})
        assert response.status_code == 302
    return cycle


def test_levels_shared_gaps_and_who_has_done_what_others_plan(region, coordinator):
    result = comparison.compare(coordinator)
    assert [r.country for r in result.countries] == ["Examplestan", "Neighbourland", "Otherland"]
    assert [r.origin for r in result.countries] == [comparison.OWN, comparison.IMPORTED, comparison.IMPORTED]
    legislation = next(row for row in result.rows if row.number == 3)
    assert [(c.country, c.level, c.target) for c in legislation.cells] == [
        ("Examplestan", 1, 3), ("Neighbourland", 2, 3), ("Otherland", 1, 2)
    ]  # fmt: skip
    assert next(row for row in result.rows if row.number == 1).cells[1].level is None  # not assessed
    # Below target in at least two countries and half of those that assessed it; 4 only in Otherland.
    assert [(g.number, len(g.with_gap), g.assessed) for g in result.shared_gaps] == [
        (3, 3, 3),
        (12, 3, 3),
        (16, 3, 3),
    ]
    learning = {(p.number, p.level): (p.planning, p.reached) for p in result.peer_learning}
    assert learning[(3, 2)] == (("Examplestan", "Otherland"), ("Neighbourland",))
    assert learning[(12, 1)] == (("Examplestan",), ("Neighbourland", "Otherland"))
    assert learning[(4, 2)] == (("Otherland",), ("Neighbourland",))
    assert (3, 3) not in learning  # Neighbourland plans it, nobody is there yet


def test_the_page_draws_the_comparison_with_text_alternatives_and_ranks_no_one(client, region):
    response = client.get(f"{BASE}comparison/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    grid = re.search(r'<svg class="chart grid-chart".*?</svg>', page, re.S).group(0)
    assert '<title id="chart-grid-title">Current level by capability and country</title>' in grid
    assert (
        "3 Legislation: Examplestan level 1 (building), Neighbourland level 2 (developing), "
        "Otherland level 1 (building)" in grid
    )
    assert 'class="bar level-2"' in grid and "style=" not in grid
    assert "Gaps shared by several countries" in page and "3 of 3 below target" in page
    hidden = page.split('<div class="visually-hidden"><table>')[1]
    assert "<caption>Current level by capability and country</caption>" in hidden
    assert "1 (target 3)" in hidden
    assert "Who has done what others plan" in page
    # Alphabetical, whatever the levels; no total, average or score per country.
    header = re.findall(r'<th scope="col">([A-Z][a-z]+land|Examplestan)</th>', page)
    assert header == ["Examplestan", "Neighbourland", "Otherland"]
    lowered = page.lower()
    for word in ("average", "score", "best", "worst", "league"):
        assert word not in lowered.replace("never ranked, scored or averaged", ""), word


def test_results_made_against_another_framework_are_listed_apart(client, as_user, coordinator, region, peer):
    key = peer("Farland")
    body = results_package("Farland", {3: (1, 2)}, key, 2026)
    from .test_results import _members

    manifest = json.loads(_members(body)["results.json"])
    for field in ("format", "signer", "documents"):
        manifest.pop(field)
    manifest["framework"] = {"version": "mnr-2030", "digest": "d" * 64}
    body = signed.write_results(manifest, key)
    as_user(coordinator)
    assert (
        client.post(f"{BASE}comparison/import/", {"package": SimpleUploadedFile("r.zip", body)}).status_code
        == 302
    )
    page = client.get(f"{BASE}comparison/").content.decode()
    assert "Farland (<code>mnr-2030</code>)" in page
    assert "Farland level" not in page


def test_who_may_compare(client, as_user, make_user, region):
    as_user(make_user("analyst"))
    assert client.get(f"{BASE}comparison/").status_code == 403
    assert client.post(f"{BASE}comparison/import/").status_code == 403
    as_user(make_user("administrator"))  # sets the keys, does not import or compare
    assert client.get(f"{BASE}comparison/").status_code == 403
    assert client.get(f"{BASE}peers/").status_code == 200
