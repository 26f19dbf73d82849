"""The assessment vocabulary file: what ships, how each kind of broken file is refused, and the
mapping to ICCAM API 3 ids and to CyberTipline terms, both ways."""

import copy
import json
import re

import pytest

from openmnr.core.vocabulary import (
    DEFAULT_VERSION,
    FILE_ANNOTATIONS,
    INDUSTRY_CLASSES,
    VOCABULARY_DIR,
    AmbiguousMappingError,
    DuplicateTermError,
    MissingNoteError,
    UnknownExternalIdError,
    UnknownReferenceError,
    UnknownTermError,
    VocabularyError,
    VocabularyFormatError,
    VocabularyNotFoundError,
    available_versions,
    load_vocabulary,
    load_vocabulary_file,
    vocabulary,
)

SHIPPED = json.loads((VOCABULARY_DIR / f"{DEFAULT_VERSION}.json").read_text())


@pytest.fixture
def data():
    return copy.deepcopy(SHIPPED)


def write(tmp_path, data, name="assessment-1"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def load(tmp_path, data):
    return load_vocabulary_file(write(tmp_path, data))


def term(data, list_name, code):
    return next(t for t in data["lists"][list_name]["terms"] if t["code"] == code)


# --- the shipped file --------------------------------------------------------------------------


def test_the_shipped_file_loads_with_every_list_the_issue_names():
    v = vocabulary()
    assert v.version == DEFAULT_VERSION == "assessment-1"
    assert available_versions() == ["assessment-1"]
    assert v.assessment.codes() == (
        "baseline",
        "nationally_illegal",
        "doubtful",
        "not_illegal",
        "not_assessable",
    )
    assert v.gender.codes() == ("not_determined", "female", "male", "both")
    assert set(v.content_type.codes()) == {"image", "video", "link", "container", "text", "other"}
    assert {"website", "file_host", "image_board", "forum", "social_network", "image_host", "blog"} <= set(
        v.site_type.codes()
    )
    assert v.commerciality.codes() == ("not_determined", "commercial", "non_commercial")
    assert "bitcoin" in v.payment_method.codes() and v.payment_method.multiple
    assert {f.code for f in v.flags} >= {"virtual", "ai_generated", "self_generated", "child_modelling"}
    # The UK's A/B/C is the default national scheme, most severe first.
    assert v.scheme().name == "uk" and v.scheme().codes() == ("A", "B", "C")
    # The hotline's existing age group codes, youngest first, with the baseline ones marked.
    assert v.age_group.codes() == ("infant_toddler", "prepubescent", "pubescent", "unknown")
    assert v.baseline_age_groups() == ("infant_toddler", "prepubescent")


def test_every_unknown_external_id_is_null_with_a_note_never_a_guess():
    v = vocabulary()
    doubtful = v.assessment.term("doubtful")
    assert doubtful.iccam_v3 is None and "not known" in doubtful.note
    assert v.action.term("moved").iccam_v3 is None and "hosting" in v.action.term("moved").note
    assert v.site_type.term("not_determined").iccam_v3 is None
    for code in ("container", "text", "other"):
        assert v.content_type.to_iccam(code) is None and v.content_type.term(code).note
    for term_list in v.lists.values():
        for t in term_list.terms:
            if term_list.iccam_v3_field and t.iccam_v3 is None:
                assert t.note, f"{term_list.name}.{t.code}"


def test_the_file_names_only_cybertipline_elements_the_schema_has(shared):
    """The loader's copy of the schema's enumerations is the schema's, read from the XSD itself."""
    xsd = (shared / "cybertipline" / "cyber_tipline.xsd").read_text()
    block = re.search(r'<xs:complexType name="fileAnnotations">(.*?)</xs:complexType>', xsd, re.S).group(1)
    assert FILE_ANNOTATIONS == set(re.findall(r'<xs:element name="(\w+)"', block))
    block = re.search(r'<xs:simpleType name="fileClassification">(.*?)</xs:simpleType>', xsd, re.S).group(1)
    assert INDUSTRY_CLASSES == set(re.findall(r'<xs:enumeration value="(\w+)"', block))
    v = vocabulary()
    for flag in v.flags:
        assert flag.cybertipline_annotation in FILE_ANNOTATIONS | {None}
    assert "generativeAi" in {f.cybertipline_annotation for f in v.flags}
    assert {"possibleSelfProduction", "liveStreaming"} <= {f.cybertipline_annotation for f in v.flags}


# --- ICCAM, both ways ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_name", "code", "iccam_id"),
    [
        # The ids SCARt's ICCAM API 3 field table records.
        ("assessment", "baseline", 1),
        ("assessment", "nationally_illegal", 2),
        ("assessment", "not_illegal", 4),
        ("age_group", "unknown", 1),
        ("age_group", "infant_toddler", 2),
        ("age_group", "prepubescent", 3),
        ("age_group", "pubescent", 4),
        ("gender", "both", 4),
        ("site_type", "website", 2),
        ("site_type", "image_host", 20),
        ("site_type", "not_applicable", 24),
        ("commerciality", "commercial", 2),
        ("payment_method", "bitcoin", 13),
        ("action", "referred_to_police", 1),
        ("action", "notice_to_host", 2),
        ("action", "removed", 3),
        ("action", "unavailable", 4),
        ("action", "not_illegal", 6),
        ("action_reason", "age_unclear", 20),
        ("content_type", "link", 2),
    ],
)
def test_known_iccam_ids_both_ways(list_name, code, iccam_id):
    term_list = vocabulary().list(list_name)
    assert term_list.to_iccam(code) == iccam_id
    assert term_list.from_iccam(iccam_id) == code


def test_every_iccam_id_reads_back_as_its_term_or_the_marked_primary():
    for term_list in vocabulary().lists.values():
        for t in term_list.terms:
            if t.iccam_v3 is None:
                continue
            back = term_list.from_iccam(t.iccam_v3)
            sharing = [o for o in term_list.terms if o.iccam_v3 == t.iccam_v3]
            assert back == (
                t.code if len(sharing) == 1 else next(o.code for o in sharing if o.iccam_v3_primary)
            )
    # ICCAM has one media type: a video goes out as media and comes back as an image until triage.
    v = vocabulary()
    assert v.content_type.to_iccam("video") == v.content_type.to_iccam("image") == 1
    assert v.content_type.from_iccam(1) == "image"


@pytest.mark.parametrize("value", [3, 99, -1, "1", 1.0, True, None])
def test_an_iccam_id_nobody_knows_is_a_typed_error(value):
    with pytest.raises(UnknownExternalIdError):
        vocabulary().assessment.from_iccam(value)  # 3 was API 2's "doubtful": not known in API 3


def test_flags_both_ways_with_iccam():
    v = vocabulary()
    assert v.flags_to_iccam([]) == {
        "virtualContentCategorization": 0,
        "userGeneratedContentCategorization": 0,
        "childModelingCategorization": 0,
    }
    sent = v.flags_to_iccam(["ai_generated", "self_generated"])
    assert sent["virtualContentCategorization"] == 1 and sent["userGeneratedContentCategorization"] == 1
    assert sent["childModelingCategorization"] == 0
    # AI-generated rides on virtual: it comes back as virtual only (ICCAM cannot tell them apart).
    assert v.flags_from_iccam(sent) == {"virtual", "self_generated"}
    assert v.flags_from_iccam({"childModelingCategorization": True}) == {"child_modelling"}
    assert v.flags_from_iccam({"virtualContentCategorization": None}) == frozenset()
    with pytest.raises(UnknownExternalIdError):
        v.flags_from_iccam({"virtualContentCategorization": 2})
    with pytest.raises(UnknownTermError):
        v.flags_to_iccam(["not_a_flag"])


# --- CyberTipline, both ways --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age_group", "category", "industry"),
    [
        ("infant_toddler", "A", "A1"),
        ("prepubescent", "B", "A1"),
        ("prepubescent", "C", "A2"),
        ("pubescent", "A", "B1"),
        ("pubescent", "C", "B2"),
        ("unknown", "A", None),
        ("", "A", None),
        ("prepubescent", "", None),
    ],
)
def test_industry_classification(age_group, category, industry):
    assert vocabulary().industry_classification(age_group, category) == industry


def test_cybertipline_annotations_both_ways():
    v = vocabulary()
    sent = v.file_annotations(age_group="infant_toddler", flags=["ai_generated", "self_generated"])
    # generativeAi, not animeDrawingVirtualHentai: the more specific flag speaks for the virtual one.
    assert sent == {"infant", "generativeAi", "possibleSelfProduction"}
    assert v.file_annotations(flags=["virtual", "live_streamed"]) == {
        "animeDrawingVirtualHentai",
        "liveStreaming",
    }
    assert v.file_annotations(flags=["child_modelling"]) == frozenset()  # no CyberTipline annotation

    back = v.from_cybertipline(sent, "A1")
    assert back.flags == {"ai_generated", "virtual", "self_generated"}
    assert back.age_group == "infant_toddler"  # the infant annotation is more precise than the letter A
    assert back.category is None  # class 1 is a sex act of category A or B: no category can be read
    assert v.from_cybertipline((), "A2") == type(back)(frozenset(), "prepubescent", "C")
    assert v.from_cybertipline((), "B1").age_group == "pubescent"
    with pytest.raises(UnknownExternalIdError):
        v.from_cybertipline((), "C3")
    with pytest.raises(UnknownExternalIdError):
        v.from_cybertipline({"somethingNew"})


def test_unknown_codes_are_typed_errors():
    v = vocabulary()
    with pytest.raises(UnknownTermError):
        v.assessment.to_iccam("illegal")
    with pytest.raises(UnknownTermError):
        v.list("colours")
    with pytest.raises(UnknownTermError):
        v.scheme("us")
    with pytest.raises(LookupError):  # a typed error that is also a LookupError for callers
        v.industry_classification("prepubescent", "D")


# --- each kind of bad file ----------------------------------------------------------------------


def test_missing_file_and_bad_version_ids(tmp_path):
    with pytest.raises(VocabularyNotFoundError):
        load_vocabulary("assessment-9")
    with pytest.raises(VocabularyNotFoundError):
        load_vocabulary("../etc/passwd")
    with pytest.raises(VocabularyNotFoundError):
        load_vocabulary_file(tmp_path / "nothing.json")


def test_not_json(tmp_path):
    path = tmp_path / "assessment-1.json"
    path.write_text("{ not json")
    with pytest.raises(VocabularyFormatError, match="not valid JSON"):
        load_vocabulary_file(path)


def test_a_file_that_declares_another_version_than_its_name(tmp_path, data):
    write(tmp_path, data, name="assessment-2")
    with pytest.raises(VocabularyFormatError, match="declares version"):
        load_vocabulary("assessment-2", folder=tmp_path)


def mutate_format(data):
    data["format"] = 2


def mutate_missing_list(data):
    del data["lists"]["gender"]


def mutate_missing_field(data):
    del term(data, "gender", "male")["label"]


def mutate_wrong_type(data):
    term(data, "gender", "male")["iccam_v3"] = "3"


def mutate_bool_for_int(data):
    term(data, "gender", "male")["iccam_v3"] = True


def mutate_unexpected_key(data):
    term(data, "content_type", "video")["iccam_v3_primay"] = True


def mutate_applies_to(data):
    data["lists"]["gender"]["applies_to"] = "report"


def mutate_empty_list(data):
    data["lists"]["gender"]["terms"] = []


def mutate_flag_values(data):
    data["flags"]["iccam_v3_values"] = {"false": 0, "true": 0}


def mutate_flag_cycle(data):
    next(f for f in data["flags"]["terms"] if f["code"] == "virtual")["implies"] = ["ai_generated"]


@pytest.mark.parametrize(
    "mutate",
    [
        mutate_format,
        mutate_missing_list,
        mutate_missing_field,
        mutate_wrong_type,
        mutate_bool_for_int,
        mutate_unexpected_key,
        mutate_applies_to,
        mutate_empty_list,
        mutate_flag_values,
        mutate_flag_cycle,
    ],
)
def test_format_errors(tmp_path, data, mutate):
    mutate(data)
    with pytest.raises(VocabularyFormatError):
        load(tmp_path, data)


def test_a_code_used_twice(tmp_path, data):
    term(data, "gender", "male")["code"] = "female"
    with pytest.raises(DuplicateTermError, match="'female'"):
        load(tmp_path, data)


def test_two_primaries_for_one_external_id(tmp_path, data):
    term(data, "content_type", "video")["iccam_v3_primary"] = True
    with pytest.raises(AmbiguousMappingError, match="several primary"):
        load(tmp_path, data)


def test_a_shared_id_without_primary_reads_back_as_unknown(tmp_path, data):
    del term(data, "content_type", "image")["iccam_v3_primary"]
    v = load(tmp_path, data)
    with pytest.raises(UnknownExternalIdError):
        v.content_type.from_iccam(1)  # image or video? the file does not say, so nothing is guessed


def test_a_null_id_without_a_note(tmp_path, data):
    del term(data, "assessment", "doubtful")["note"]
    with pytest.raises(MissingNoteError, match="doubtful"):
        load(tmp_path, data)


def test_a_list_without_cybertipline_element_or_note(tmp_path, data):
    del data["lists"]["gender"]["cybertipline_note"]
    with pytest.raises(MissingNoteError):
        load(tmp_path, data)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["category_schemes"].update(default="us"),
        lambda d: d["flags"]["terms"][1].update(implies=["realistic"]),
        lambda d: term(d, "age_group", "infant_toddler").update(cybertipline_annotation="baby"),
        lambda d: term(d, "age_group", "pubescent").update(cybertipline="C"),
        lambda d: d["category_schemes"]["schemes"]["uk"]["terms"][0].update(cybertipline="3"),
    ],
)
def test_references_to_things_that_do_not_exist(tmp_path, data, mutate):
    mutate(data)
    with pytest.raises(UnknownReferenceError):
        load(tmp_path, data)


def test_every_error_is_a_vocabulary_error():
    for kind in (
        VocabularyFormatError,
        VocabularyNotFoundError,
        DuplicateTermError,
        AmbiguousMappingError,
        MissingNoteError,
        UnknownReferenceError,
        UnknownTermError,
        UnknownExternalIdError,
    ):
        assert issubclass(kind, VocabularyError)


def test_docs_exchange_holds_the_mapping_table():
    """docs/exchange.md shows the file's mapping; regenerate with python -m openmnr.core.vocabulary.table."""
    from pathlib import Path

    from openmnr.core.vocabulary.table import mapping_tables

    doc = Path(__file__).resolve().parents[2] / "docs" / "exchange.md"
    assert mapping_tables().rstrip() in doc.read_text()


@pytest.mark.parametrize("assessment", ["doubtful", "not_assessable"])
def test_doubtful_and_not_assessable_are_never_sent_to_iccam_as_another_assessment(assessment):
    """SCARt sends a grade it cannot map as 1 (Baseline); the exporter refuses instead, saying why."""
    from openmnr.core.exchange.iccam_data import Classification, NotExchangeable, assessment_body

    with pytest.raises(NotExchangeable, match=f"ICCAM has no classification for '{assessment}'"):
        assessment_body(Classification(assessment, age_group="pubescent"), "analyst")
    assert (
        assessment_body(Classification("nationally_illegal", age_group="pubescent"), "a")["classification"]
        == 2
    )
