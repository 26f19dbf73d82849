"""The MNR framework file: what ships, and how a broken or newer file is handled."""

import copy
import json
import re

import pytest

from openmnr.core.mnr import (
    DEFAULT_VERSION,
    CitationError,
    DuplicateError,
    FrameworkError,
    FrameworkFormatError,
    FrameworkNotFoundError,
    LevelError,
    MNRError,
    PrerequisiteCycleError,
    UnknownReferenceError,
    available_versions,
    load_framework,
    load_framework_file,
)
from openmnr.core.mnr.framework import FRAMEWORK_DIR

# The 21 capabilities and their domains exactly as the MNR lists them.
EXPECTED = {
    1: ("Leadership", "Policy and Governance"),
    2: ("Research, analysis and monitoring", "Policy and Governance"),
    3: ("Legislation", "Policy and Governance"),
    4: ("Dedicated law enforcement", "Criminal Justice"),
    5: ("Judiciary and prosecutors", "Criminal Justice"),
    6: ("Offender management process", "Criminal Justice"),
    7: ("Access to image databases", "Criminal Justice"),
    8: ("End-to-end support", "Victim"),
    9: ("Child protection workforce", "Victim"),
    10: ("Compensation, remedies and complaints arrangements", "Victim"),
    11: ("Child helpline", "Victim"),
    12: ("CSEA hotline", "Societal"),
    13: ("Education programme", "Societal"),
    14: ("Child participation", "Societal"),
    15: ("Offender support systems", "Societal"),
    16: ("Takedown procedures", "Industry"),
    17: ("CSEA reporting", "Industry"),
    18: ("Innovative solution development", "Industry"),
    19: ("Corporate social responsibility", "Industry"),
    20: ("Ethical and informed media reporting", "Media and Communications"),
    21: ("Universal terminology", "Media and Communications"),
}

# (dependant, level of it, alternatives that satisfy it) as the MNR wording supports them.
PREREQUISITES = {
    (12, 2, ((3, 2),)),
    (12, 2, ((4, 1),)),
    (7, 2, ((4, 2),)),
    (7, 2, ((3, 2),)),
    (6, 2, ((3, 2),)),
    (2, 2, ((1, 2),)),
    (16, 2, ((12, 2), (4, 2))),  # takedown notices come from the hotline OR the police
    (17, 3, ((3, 3),)),
    (17, 3, ((4, 2),)),  # industry reports are received by dedicated law enforcement
}

LIVE = {
    7: {"banks.hash_count", "banks.confirmed_additions"},
    8: {"survivors.cases_opened", "survivors.matches_reported", "survivors.removals_reported"},
    12: {"hotline.reports_received", "hotline.reports_assessed", "hotline.median_hours_to_assessment"},
    16: {
        "takedown.median_hours_to_removal",
        "takedown.share_removed_within_3_days",
        "blocking.list_size",
        "blocking.list_age_hours",
        "blocking.licensees",
        "blocking.partner_lists",
    },
    17: {
        "industry.reports_received",
        "industry.providers_reporting",
        "industry.new_material_share",
        "industry.first_police_view_hours",
    },
}


@pytest.fixture(scope="module")
def framework():
    return load_framework()


@pytest.fixture
def data():
    """The shipped file as plain JSON, to break in one place per test."""
    return json.loads((FRAMEWORK_DIR / f"{DEFAULT_VERSION}.json").read_text(encoding="utf-8"))


def write(tmp_path, data, version="mnr-2016"):
    path = tmp_path / f"{version}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_default_framework_is_mnr_2016(framework):
    assert framework.version == "mnr-2016"
    assert "mnr-2016" in available_versions()


def test_the_21_capabilities_are_those_of_the_mnr_in_their_domains(framework):
    found = {c.number: (c.name, framework.domain(c.domain).name) for c in framework.capabilities}
    assert found == EXPECTED
    assert all(c.description.strip() for c in framework.capabilities)


def test_six_domains_each_with_an_outcome_and_the_enablers(framework):
    assert [d.name for d in framework.domains] == [
        "Policy and Governance",
        "Criminal Justice",
        "Victim",
        "Societal",
        "Industry",
        "Media and Communications",
    ]
    assert all(d.outcome.strip() for d in framework.domains)
    assert len(framework.enablers) >= 5
    assert all(e.name and e.description for e in framework.enablers)


def test_maturity_levels_are_absent_to_maturity_with_the_published_phase_names(framework):
    assert [(level.number, level.name) for level in framework.levels] == [
        (0, "absent"),
        (1, "building"),
        (2, "developing"),
        (3, "enhancing"),
        (4, "maturity"),
    ]
    # Levels 1-4 are the maturity model's four phases; only "building" and "maturity" are named in the
    # published text OpenMNR could read, so only those two take their name from it.
    assert [level.phase for level in framework.levels] == [None, 1, 2, 3, 4]
    named = {level.number: level.name_from for level in framework.levels}
    assert named == {0: None, 1: "mnr-maturity-model", 2: None, 3: None, 4: "mnr-maturity-model"}
    assert framework.source_of("mnr-maturity-model").publisher == "WeProtect Global Alliance and UNICEF"


def test_every_capability_has_criteria_at_every_level_named_by_capability_and_level(framework):
    for capability in framework.capabilities:
        assert capability.criteria_at(0) == ()
        for level in (1, 2, 3, 4):
            criteria = capability.criteria_at(level)
            assert criteria, f"capability {capability.number} has no criteria for level {level}"
            for criterion in criteria:
                assert re.fullmatch(rf"{capability.number}\.{level}\.[a-z]", criterion.id)
                assert criterion.text.endswith(".")
                assert framework.criterion(criterion.id) == criterion


def test_level_met_is_the_highest_level_with_every_criterion_below_met(framework):
    hotline = framework.capability(12)
    level_1 = {c.id for c in hotline.criteria_at(1)}
    level_2 = {c.id for c in hotline.criteria_at(2)}
    assert hotline.level_met(set()) == 0
    assert hotline.level_met(level_1) == 1
    assert hotline.level_met(level_1 | level_2) == 2
    # A level-2 criterion met without level 1 complete does not count.
    assert hotline.level_met(level_2) == 0


def test_prerequisites_are_those_the_mnr_wording_supports_and_each_cites_it(framework):
    present = {
        (p.capability, p.for_level, tuple((r.capability, r.level) for r in p.any_of))
        for p in framework.prerequisites
    }
    assert present == PREREQUISITES
    # Terminology is guidance; drafting law does not wait for it.
    assert not framework.prerequisites_of(3)
    sources = {s.id: s for s in framework.sources}
    for p in framework.prerequisites:
        assert p.why.strip()
        assert p.cites, p
        for citation in p.cites:
            assert citation.source in sources
            assert len(citation.passage) > 40
            assert sources[citation.source].url.startswith("https://")


def test_only_the_prerequisite_the_text_calls_essential_is_hard(framework):
    hard = [p for p in framework.prerequisites if p.hard]
    assert [(p.capability, p.for_level, p.requires) for p in hard] == [(12, 2, (3,))]
    assert "essential prior to the implementation of a hotline" in hard[0].cites[0].passage


def test_criteria_from_the_text_cite_their_passage(framework):
    def cited(criterion_id):
        criterion = framework.criterion(criterion_id)
        assert criterion.cites, criterion_id
        return " ".join(c.passage for c in criterion.cites)

    # Capability 16 is removal AND blocking: a blocking list that is lawful and transparent, and stop pages.
    blocking = [c for c in framework.capability(16).criteria if "block" in c.text.lower()]
    assert len(blocking) >= 3
    assert "blocking or filtering" in cited("16.3.c")
    assert "appeal" in framework.criterion("16.3.d").text and "appeal" in cited("16.3.d")
    assert "stop page" in framework.criterion("16.3.e").text and "splash page" in cited("16.3.e")
    # Safe harbour for industry to review and report, under legislation and under industry reporting.
    assert "safe harbour" in framework.criterion("3.3.d").text and "safe harbour" in cited("3.3.d")
    assert "Statutory protections" in cited("17.3.c")
    # Criteria that cite nothing are OpenMNR's own wording, which the file says.
    assert not framework.criterion("12.2.a").cites
    assert "OpenMNR's own" in framework.source


def test_dependants_name_what_waits_for_a_capability(framework):
    assert sorted(p.capability for p in framework.dependants_of(3)) == [6, 7, 12, 17]
    assert sorted(p.capability for p in framework.dependants_of(4)) == [7, 12, 16, 17]
    assert framework.dependants_of(21) == ()


def test_topological_order_puts_prerequisites_first(framework):
    order = framework.topological_order()
    assert sorted(order) == list(range(1, 22))
    for p in framework.prerequisites:
        for r in p.requires:
            assert order.index(r) < order.index(p.capability)


def test_the_digest_names_the_content_not_the_layout(tmp_path, data, framework):
    assert len(framework.digest) == 64
    path = tmp_path / "mnr-2016.json"
    path.write_text(json.dumps(data, indent=7, sort_keys=True), encoding="utf-8")
    assert load_framework("mnr-2016", folder=tmp_path).digest == framework.digest
    data["capabilities"][0]["name"] = "Leadership and governance"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_framework("mnr-2016", folder=tmp_path).digest != framework.digest


def test_live_indicators_are_the_ones_the_platform_fills(framework):
    live = {}
    for indicator in framework.live_indicators():
        live.setdefault(indicator.capability, set()).add(indicator.key)
    assert live == LIVE
    for capability in framework.capabilities:
        assert capability.indicators, f"capability {capability.number} has no indicator"
    # The issue's own examples of indicators that a coordinator records by hand.
    assert not framework.indicator("hotline.inhope_member").live
    assert not framework.indicator("banks.icse_connected").live


CITES = [{"source": "mnr-hotline", "passage": "a passage"}]


def prerequisite(capability, requires, level=1, for_level=1, **extra):
    item = {
        "capability": capability,
        "for_level": for_level,
        "any_of": [{"capability": requires, "level": level}],
        "why": "test",
        "cites": CITES,
    }
    item.update(extra)
    return item


def test_a_cycle_is_refused_and_named(tmp_path, data):
    # 21 -> 12 -> 16 and 12 needs 3; 3 needing 16 closes a loop through 12.
    data["prerequisites"].append(prerequisite(21, 16))
    data["prerequisites"].append(prerequisite(3, 21))
    with pytest.raises(PrerequisiteCycleError) as raised:
        load_framework_file(write(tmp_path, data))
    cycle = [int(n) for n in str(raised.value).split("cycle: ")[1].split(" -> ")]
    assert cycle[0] == cycle[-1]
    assert sorted(cycle[:-1]) == [3, 12, 16, 21]


def test_every_alternative_of_an_any_of_prerequisite_counts_for_cycles(tmp_path, data):
    # 16 may be satisfied by 12 or 4; 4 needing 16 is a cycle although 12 alone would not be one.
    data["prerequisites"].append(prerequisite(4, 16))
    with pytest.raises(PrerequisiteCycleError):
        load_framework_file(write(tmp_path, data))


def test_a_capability_that_requires_itself_is_a_cycle(tmp_path, data):
    data["prerequisites"].append(prerequisite(5, 5))
    with pytest.raises(PrerequisiteCycleError):
        load_framework_file(write(tmp_path, data))


def test_a_prerequisite_on_an_unknown_capability_is_refused(tmp_path, data):
    data["prerequisites"].append(prerequisite(12, 99))
    with pytest.raises(UnknownReferenceError, match="99"):
        load_framework_file(write(tmp_path, data))


@pytest.mark.parametrize(
    "break_it, error",
    [
        pytest.param(lambda d: d["prerequisites"][0].update(cites=[]), CitationError, id="no citation"),
        pytest.param(lambda d: d["prerequisites"][0].pop("cites"), CitationError, id="cites missing"),
        pytest.param(lambda d: d["prerequisites"][0].update(why=" "), CitationError, id="no reason"),
        pytest.param(
            lambda d: d["prerequisites"][0]["cites"][0].update(passage=""), CitationError, id="empty passage"
        ),
        pytest.param(
            lambda d: d["prerequisites"][0]["cites"][0].update(source="nowhere"),
            UnknownReferenceError,
            id="unknown source",
        ),
        pytest.param(
            lambda d: d["capabilities"][15]["criteria"][6]["cites"][0].update(source="nowhere"),
            UnknownReferenceError,
            id="criterion cites unknown source",
        ),
        pytest.param(lambda d: d["prerequisites"][0].update(any_of=[]), FrameworkFormatError, id="no any_of"),
        pytest.param(lambda d: d["levels"][2].update(name_from="nowhere"), UnknownReferenceError, id="level"),
        pytest.param(lambda d: d["sources"][0].update(url="weprotect.org"), FrameworkFormatError, id="url"),
    ],
)
def test_prerequisites_and_criteria_must_cite_known_sources(tmp_path, data, break_it, error):
    break_it(data)
    with pytest.raises(error):
        load_framework_file(write(tmp_path, data))


def test_a_capability_in_an_unknown_domain_is_refused(tmp_path, data):
    data["capabilities"][0]["domain"] = "nowhere"
    with pytest.raises(UnknownReferenceError, match="nowhere"):
        load_framework_file(write(tmp_path, data))


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda d: d["capabilities"][1].update(number=1), id="capability number"),
        pytest.param(
            lambda d: d["capabilities"][1]["criteria"].append(d["capabilities"][0]["criteria"][0]),
            id="criterion id",
        ),
        pytest.param(
            lambda d: d["capabilities"][1]["indicators"].append(d["capabilities"][0]["indicators"][0]),
            id="indicator key",
        ),
        pytest.param(lambda d: d["domains"].append(copy.deepcopy(d["domains"][0])), id="domain id"),
        pytest.param(
            lambda d: d["prerequisites"].append(copy.deepcopy(d["prerequisites"][0])), id="prerequisite"
        ),
    ],
)
def test_duplicates_are_refused(tmp_path, data, break_it):
    break_it(data)
    with pytest.raises(DuplicateError, match="duplicate"):
        load_framework_file(write(tmp_path, data))


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda d: d["levels"].pop(), id="level 4 missing"),
        pytest.param(
            lambda d: d["levels"].append({"level": 5, "name": "x", "description": "x"}), id="level 5"
        ),
        pytest.param(
            lambda d: d["capabilities"][2]["criteria"][0].update(level=5), id="criterion at level 5"
        ),
        pytest.param(
            lambda d: d["capabilities"][2]["criteria"][0].update(level=0), id="criterion at level 0"
        ),
        pytest.param(
            lambda d: d["capabilities"][2].update(
                criteria=[c for c in d["capabilities"][2]["criteria"] if c["level"] != 3]
            ),
            id="no criteria for level 3",
        ),
        pytest.param(lambda d: d["prerequisites"][0]["any_of"][0].update(level=7), id="prerequisite level 7"),
        pytest.param(lambda d: d["prerequisites"][0].update(for_level=0), id="prerequisite for level 0"),
        pytest.param(lambda d: d["levels"][1].update(phase=9), id="phase 9"),
    ],
)
def test_levels_outside_0_to_4_are_refused(tmp_path, data, break_it):
    break_it(data)
    with pytest.raises(LevelError):
        load_framework_file(write(tmp_path, data))


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda d: d.pop("capabilities"), id="missing capabilities"),
        pytest.param(lambda d: d["capabilities"][0].pop("name"), id="missing name"),
        pytest.param(lambda d: d["capabilities"][0].update(number="1"), id="number as text"),
        pytest.param(lambda d: d["capabilities"][0]["criteria"][0].update(level=True), id="level as boolean"),
        pytest.param(lambda d: d["capabilities"][0]["indicators"][0].update(live="yes"), id="live as text"),
        pytest.param(lambda d: d["capabilities"].append(["not", "an", "object"]), id="capability as list"),
        pytest.param(lambda d: d.update(format=1), id="old format"),
        pytest.param(lambda d: d["prerequisites"][0].update(hard="yes"), id="hard as text"),
    ],
)
def test_malformed_fields_are_refused(tmp_path, data, break_it):
    break_it(data)
    with pytest.raises(FrameworkFormatError):
        load_framework_file(write(tmp_path, data))


def test_a_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "mnr-2016.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(FrameworkFormatError, match="not valid JSON"):
        load_framework_file(path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FrameworkFormatError):
        load_framework_file(path)


def test_unknown_version_and_bad_version_ids_are_not_found(tmp_path):
    with pytest.raises(FrameworkNotFoundError):
        load_framework("mnr-1999")
    with pytest.raises(FrameworkNotFoundError):
        load_framework_file(tmp_path / "missing.json")
    for bad in ("../mnr-2016", "mnr/2016", "", "MNR-2016", None):
        with pytest.raises(FrameworkNotFoundError):
            load_framework(bad)


def test_a_file_must_declare_the_version_it_is_named_for(tmp_path, data):
    write(tmp_path, data, version="mnr-2030")
    with pytest.raises(FrameworkFormatError, match="declares version 'mnr-2016'"):
        load_framework("mnr-2030", folder=tmp_path)


def test_every_error_is_a_framework_error():
    for error in (
        FrameworkNotFoundError,
        FrameworkFormatError,
        DuplicateError,
        UnknownReferenceError,
        LevelError,
        PrerequisiteCycleError,
        CitationError,
    ):
        assert issubclass(error, FrameworkError)
        assert issubclass(error, MNRError)


def test_a_newer_framework_loads_from_its_own_file_without_code_change(tmp_path, data):
    data["version"] = "mnr-2030"
    data["title"] = "Model National Response (2030)"
    data["capabilities"][11]["name"] = "CSEA hotline and reporting portal"
    new = copy.deepcopy(data["capabilities"][20])
    new.update(number=22, name="Age assurance", domain="industry")
    for criterion in new["criteria"]:
        criterion["id"] = criterion["id"].replace("21.", "22.", 1)
    for indicator in new["indicators"]:
        indicator["key"] = indicator["key"].replace("terminology.", "age_assurance.")
    data["capabilities"].append(new)
    data["prerequisites"].append(prerequisite(22, 3, level=3, for_level=2, why="law first"))
    write(tmp_path, data, version="mnr-2030")

    newer = load_framework("mnr-2030", folder=tmp_path)
    assert available_versions(tmp_path) == ["mnr-2030"]
    assert newer.version == "mnr-2030"
    assert len(newer.capabilities) == 22
    assert newer.capability(12).name == "CSEA hotline and reporting portal"
    assert newer.capability(22).criteria_at(1)[0].id == "22.1.a"
    assert newer.topological_order().index(3) < newer.topological_order().index(22)
    # The shipped version is untouched, so an assessment made against it still reads the same.
    assert load_framework("mnr-2016").capability(12).name == "CSEA hotline"
    assert load_framework_file(tmp_path / "mnr-2030.json") == newer
