"""A provider's client files a report with two files through the whole CyberTipline exchange over
HTTP (httpx against a live server on 127.0.0.1), every answer is checked against NCMEC's schema,
and the case is read back as law enforcement sees it."""

import hashlib

import httpx
import pytest
from lxml import etree

from openmnr.core.cybertipline import documents


def answer(response: httpx.Response, root: str = "reportResponse") -> etree._Element:
    """The XML answer, checked against the schema NCMEC publishes (the reportResponse and
    reportDoneResponse elements are part of it)."""
    assert response.headers["content-type"].startswith("application/xml"), response.text
    element = etree.fromstring(response.content)
    assert element.tag == root
    documents.validate(element)
    return element


def code(element) -> int:
    return int(element.findtext("responseCode"))


@pytest.mark.django_db(transaction=True)
def test_a_report_with_two_files_goes_through_the_whole_exchange(
    ispws, provider, known_bank, shared, staff_client, docs
):
    status = answer(ispws.get("/status"))
    assert code(status) == 0 and provider.username.split("-")[1] in status.findtext("responseDescription")

    schema = ispws.get("/xsd")
    assert (
        schema.status_code == 200
        and schema.content == (shared / "cybertipline" / "cyber_tipline.xsd").read_bytes()
    )

    opened = answer(
        ispws.post(
            "/submit",
            content=docs.report(escalate="live abuse", victim_country="PT"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
    )
    assert code(opened) == 0 and opened.findtext("responseDescription") == "Success"
    report_id = int(opened.findtext("reportId"))

    file_ids = []
    for name, data in (("known.jpg", docs.known), ("new.jpg", docs.new)):
        uploaded = answer(
            ispws.post("/upload", data={"id": str(report_id)}, files={"file": (name, data, "image/jpeg")})
        )
        assert code(uploaded) == 0
        assert int(uploaded.findtext("reportId")) == report_id
        assert uploaded.findtext("hash") == hashlib.md5(data).hexdigest()
        file_ids.append(uploaded.findtext("fileId"))
    assert len(set(file_ids)) == 2

    described = answer(
        ispws.post(
            "/fileinfo",
            content=docs.details(report_id, file_ids[1]),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
    )
    assert code(described) == 0 and described.findtext("fileId") == file_ids[1]

    done = answer(ispws.post("/finish", data={"id": str(report_id)}), "reportDoneResponse")
    assert code(done) == 0 and int(done.findtext("reportId")) == report_id
    assert done.findall("files/fileId") and [e.text for e in done.findall("files/fileId")] == file_ids

    again = answer(ispws.post("/finish", data={"id": str(report_id)}))
    assert code(again) == 5102

    # Read the case back as law enforcement sees it.
    from openmnr.industry.models import Case

    case = Case.objects.get(report_id=report_id)
    assert (case.new_files, case.known_files) == (1, 1)
    assert case.countries == ["PT"] and case.concerns_home
    assert case.reasons[0].startswith("Escalated by the provider: live abuse")
    files = {f.file_id: f for f in case.report.files.all()}
    assert files[file_ids[0]].matched and files[file_ids[0]].auto_assessed
    assert not files[file_ids[1]].matched
    described = files[file_ids[1]]
    assert described.classification == "A1" and described.flags == ["ai_generated", "virtual"]

    police, officer = staff_client("law_enforcement")
    page = police.get(f"/staff/industry/cases/{case.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Escalated by the provider" in text and "known material" in text and "new: matches nothing" in text
    assert "A1 (baseline, infant_toddler)" in text and "AI-generated, Virtual" in text
    assert "no-store" in page["Cache-Control"]
    case.refresh_from_db()
    assert case.first_viewed_by == officer


@pytest.mark.django_db(transaction=True)
def test_wrong_or_missing_credentials_get_401_with_an_empty_body(ispws_server, provider, docs):
    for auth in (None, (provider.username, "wrong"), ("nobody", provider.password)):
        response = httpx.post(
            f"{ispws_server.url}/ispws/submit", content=docs.report(), auth=auth, timeout=60
        )
        assert response.status_code == 401 and response.content == b""
        assert response.headers["www-authenticate"].startswith("Basic")
    from openmnr.industry.models import Report

    assert not Report.objects.exists()
