"""The MNR framework file: what ships, and how a broken or newer file is handled."""

import copy
import json
import re

import pytest

from openmnr.core.mnr import (
    DEFAULT_VERSION,
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

# (prerequisite, dependant) pairs the issue requires.
REQUIRED_PREREQUISITES = {(3, 12), (3, 7), (4, 7), (4, 12), (12, 16), (3, 17), (3, 6), (1, 2), (21, 3)}

LIVE = {
    7: {"banks.hash_count", "banks.confirmed_additions"},
    12: {"hotline.reports_received", "hotline.reports_assessed", "hotline.median_hours_to_assessment"},
    16: {"takedown.median_hours_to_removal", "takedown.share_removed_within_3_days"},
    17: {"industry.reports_received"},
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


def test_maturity_levels_are_absent_to_mature(framework):
    assert [(level.number, level.name) for level in framework.levels] == [
        (0, "absent"),
        (1, "building"),
        (2, "developing"),
        (3, "enhancing"),
        (4, "mature"),
    ]


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


def test_required_prerequisites_are_present_with_a_level(framework):
    present = {(p.requires, p.capability): p for p in framework.prerequisites}
    assert REQUIRED_PREREQUISITES <= present.keys()
    for pair in REQUIRED_PREREQUISITES:
        assert present[pair].level in (1, 2, 3, 4)
        assert present[pair].why.strip()


def test_topological_order_puts_prerequisites_first(framework):
    order = framework.topological_order()
    assert sorted(order) == list(range(1, 22))
    for p in framework.prerequisites:
        assert order.index(p.requires) < order.index(p.capability)


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


def test_a_cycle_is_refused_and_named(tmp_path, data):
    # 21 -> 3 -> 12 already exist; 12 -> 21 closes the loop.
    data["prerequisites"].append({"capability": 21, "requires": 12, "level": 1, "why": "test"})
    with pytest.raises(PrerequisiteCycleError) as raised:
        load_framework_file(write(tmp_path, data))
    cycle = [int(n) for n in str(raised.value).split("cycle: ")[1].split(" -> ")]
    assert cycle[0] == cycle[-1]
    assert sorted(cycle[:-1]) == [3, 12, 21]


def test_a_capability_that_requires_itself_is_a_cycle(tmp_path, data):
    data["prerequisites"].append({"capability": 5, "requires": 5, "level": 1, "why": "test"})
    with pytest.raises(PrerequisiteCycleError):
        load_framework_file(write(tmp_path, data))


def test_a_prerequisite_on_an_unknown_capability_is_refused(tmp_path, data):
    data["prerequisites"].append({"capability": 12, "requires": 99, "level": 1, "why": "test"})
    with pytest.raises(UnknownReferenceError, match="99"):
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
        pytest.param(lambda d: d["prerequisites"][0].update(level=7), id="prerequisite level 7"),
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
        pytest.param(lambda d: d.update(format=2), id="unknown format"),
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
    data["prerequisites"].append({"capability": 22, "requires": 3, "level": 3, "why": "law first"})
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
