"""The CyberTipline core without Django: the shipped schema, defused parsing, answers, facts, risk."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from openmnr.core.cybertipline import documents, model, risk
from openmnr.core.cybertipline.codes import Code, ProtocolError

PACKAGE = Path(documents.__file__).parent

VALID = b"""<report><incidentSummary>
<incidentType>Online Enticement of Children for Sexual Acts</incidentType>
<escalateToHighPriority>meeting tonight</escalateToHighPriority>
<reportAnnotations><sextortion>true</sextortion></reportAnnotations>
<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary>
<internetDetails><webPageIncident><url>https://a.example/x</url></webPageIncident></internetDetails>
<reporter><reportingPerson><firstName>T</firstName><lastName>S</lastName></reportingPerson></reporter>
<personOrUserReported><personOrUserReportedPerson><phone countryCallingCode="+44">7700900000</phone>
<address><country>GB</country></address></personOrUserReportedPerson>
<espIdentifier>Bad.Actor</espIdentifier><espService>Chat</espService>
<ipCaptureEvent><ipAddress>192.0.2.1</ipAddress></ipCaptureEvent>
<priorCTReports>1234</priorCTReports><priorCTReports>5678</priorCTReports>
<estimatedLocation><countryCode>IE</countryCode></estimatedLocation></personOrUserReported>
<victim><victimPerson><phone>+351 912 345 678</phone></victimPerson></victim></report>"""


def test_the_packaged_schema_is_ncmecs_as_published(shared):
    assert documents.schema_bytes() == (shared / "cybertipline" / "cyber_tipline.xsd").read_bytes()
    assert "NCMEC" in (PACKAGE / "PROVENANCE.txt").read_text()


def test_a_valid_report_gives_its_facts():
    facts = model.report_facts(documents.parse(VALID, "report"))
    assert facts.escalate == "meeting tonight" and facts.annotations == ("sextortion",)
    reported, victim = facts.people
    assert reported.account == ("chat", "bad.actor")
    assert {(p.country, p.source) for p in reported.places} == {
        ("GB", "address"),
        ("IE", "estimated location"),
    }
    assert reported.phones == (("+44", "7700900000"),) and reported.ips == ("192.0.2.1",)
    assert reported.prior_reports == (1234, 5678)
    assert victim.role == "victim" and victim.phones == (("", "+351 912 345 678"),)
    assert facts.urls == ("https://a.example/x",)


@pytest.mark.parametrize(
    "data, code, says",
    [
        (b"", Code.MALFORMED_XML, "no <report>"),
        (b"<report>", Code.MALFORMED_XML, "Malformed XML"),
        ('<?xml version="1.0" encoding="UTF-16"?><report/>'.encode("utf-16"), Code.MALFORMED_XML, "UTF-8"),
        (b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><report/>', Code.MALFORMED_XML, "DOCTYPE"),
        (b"<report>" + b"<x>" * 33 + b"</x>" * 33 + b"</report>", Code.MALFORMED_XML, "deeper than 32"),
        (
            VALID.replace(b"<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime>", b""),
            Code.VALIDATION_FAILED,
            "incidentDateTime",
        ),
        (
            VALID.replace(b"<countryCode>IE</countryCode>", b"<countryCode>ie</countryCode>"),
            Code.VALIDATION_FAILED,
            "countryCode",
        ),
    ],
    ids=["empty", "truncated", "utf-16", "external-dtd", "deep", "missing", "enumeration"],
)
def test_bad_documents_are_refused_with_the_reason(data, code, says):
    with pytest.raises(ProtocolError) as refused:
        documents.parse(data, "report")
    assert refused.value.code == code and says in refused.value.description


def test_size_and_element_caps():
    with pytest.raises(ProtocolError, match="larger than the limit of 100 bytes"):
        documents.parse(VALID, "report", max_bytes=100)
    with pytest.raises(ProtocolError, match="more than 10 elements"):
        documents.parse(VALID, "report", max_elements=10)


def test_answers_are_valid_under_the_schema():
    for body in (
        documents.report_response(0, report_id=7, file_id="ab" * 16, md5="0" * 32),
        documents.error_response(
            ProtocolError(Code.ALREADY_FINISHED, "Report 7 is already finished", report_id=7)
        ),
        documents.report_done_response(7, ["a", "b"]),
        documents.report_done_response(7, []),
    ):
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>')
        documents.validate(etree.fromstring(body))
    element = etree.fromstring(documents.report_done_response(7, ["a", "b"]))
    assert [e.text for e in element.findall("files/fileId")] == ["a", "b"]


def test_file_details_facts():
    details = b"""<fileDetails><reportId>7</reportId><fileId>abc</fileId><fileName>f.jpg</fileName>
    <fileAnnotations><infant>true</infant><generativeAi>true</generativeAi></fileAnnotations>
    <industryClassification>A2</industryClassification><originalFileHash hashType="MD5">x</originalFileHash>
    <ipCaptureEvent><ipAddress>192.0.2.9</ipAddress></ipCaptureEvent></fileDetails>"""
    facts = model.file_facts(documents.parse(details, "fileDetails"))
    assert (facts.report_id, facts.file_id, facts.classification, facts.ip) == (7, "abc", "A2", "192.0.2.9")
    assert facts.annotations == ("infant", "generativeAi")


inputs = st.builds(
    risk.RiskInput,
    escalate=st.sampled_from(["", "now"]),
    new_files=st.integers(0, 2000),
    known_files=st.integers(0, 2000),
    victim_home=st.sampled_from([(), ("phone",)]),
    reported_home=st.sampled_from([(), ("IP address",)]),
    prior_reports=st.integers(0, 2000),
)


def _order(i: risk.RiskInput) -> tuple:
    cap = lambda n: min(n, 999)  # noqa: E731
    return (
        bool(i.escalate),
        i.new_files > 0,
        bool(i.victim_home),
        bool(i.reported_home),
        cap(i.new_files),
        cap(i.prior_reports),
        cap(i.new_files + i.known_files),
    )


@settings(deadline=None)  # the machine is shared: no timing in a unit test
@given(inputs, inputs)
def test_the_score_orders_exactly_as_the_documented_tiers(a, b):
    sa, sb = risk.assess(a).score, risk.assess(b).score
    assert (sa > sb) == (_order(a) > _order(b)) and (sa == sb) == (_order(a) == _order(b))
    assert sa < 2**63  # fits a database bigint


def test_reasons_say_why():
    reasons = risk.assess(
        risk.RiskInput(
            escalate="x", new_files=2, known_files=1, victim_home=("phone", "address"), home_country="PT"
        )
    ).reasons
    assert reasons == (
        "Escalated by the provider: x",
        "2 files of 3 match nothing in the banks: new material, a child possibly still being abused",
        "A victim in PT (address, phone)",
    )


def test_the_schema_is_compiled_by_one_thread_while_the_others_wait(monkeypatch):
    """libxml2's schema compiler must not run in two threads at once (compiling in every thread of
    a fresh server process at the same time failed, and kept failing while they all retried): the
    first thread compiles, the others wait for its schema and validate with it."""
    import threading

    real = etree.XMLSchema
    compiles, running, most = [], [0], [0]
    lock, others_waiting = threading.Lock(), threading.Event()

    def watched(*args, **kwargs):
        with lock:
            compiles.append(threading.current_thread().name)
            running[0] += 1
            most[0] = max(most[0], running[0])
        # Give the other threads every chance to start compiling too: without the schema's lock
        # they do (and most[0] grows); with it they wait, and this waits out its timeout.
        others_waiting.wait(timeout=0.5)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(documents, "_schema", None, raising=False)  # a fresh process: not compiled yet
    if hasattr(documents.schema, "cache_clear"):  # the former functools.cache, for comparison
        documents.schema.cache_clear()
    monkeypatch.setattr(documents.etree, "XMLSchema", watched)
    results, start = [], threading.Barrier(4)

    def validate():
        start.wait()
        results.append(documents.parse(VALID, "report").tag)

    threads = [threading.Thread(target=validate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["report"] * 4
    assert len(compiles) == 1 and most[0] == 1
