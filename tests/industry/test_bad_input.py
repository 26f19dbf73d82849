"""Every bad input of the protocol gets its documented response code and a clear description over
real HTTP, never a 500, and leaves nothing half-stored: the database is checked after each."""

import socket

import httpx
import pytest
from lxml import etree

from openmnr.core.cybertipline import documents

XML = {"Content-Type": "text/xml; charset=utf-8"}

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE report [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<report><incidentSummary><incidentType>&lol9;</incidentType></incidentSummary></report>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE report [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<report><incidentSummary><incidentType>&secret;</incidentType>
<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary>
<reporter><reportingPerson><firstName>x</firstName></reportingPerson></reporter></report>"""

WRONG_ORDER = b"""<report><reporter><reportingPerson><firstName>x</firstName></reportingPerson></reporter>
<incidentSummary><incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary></report>"""

SCHEMA_VIOLATION = b"""<report><incidentSummary><incidentType>Something else</incidentType>
<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary>
<reporter><reportingPerson><firstName>x</firstName></reportingPerson></reporter></report>"""


def answer(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code != 500
    element = etree.fromstring(response.content)
    documents.validate(element)
    return int(element.findtext("responseCode")), element.findtext("responseDescription")


def counts() -> tuple[int, int, int]:
    from openmnr.industry.models import Case, File, Report

    return Report.objects.count(), File.objects.count(), Case.objects.count()


def open_report(client, docs) -> int:
    return int(
        etree.fromstring(client.post("/submit", content=docs.report(), headers=XML).content).findtext(
            "reportId"
        )
    )


def upload(client, report_id, data=b"\xff\xd8\xff not really a jpeg") -> httpx.Response:
    return client.post("/upload", data={"id": str(report_id)}, files={"file": ("f.jpg", data, "image/jpeg")})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "body, expected, says",
    [
        (b"<report><incidentSummary>", 4110, "Malformed XML"),
        (b"not xml at all", 4110, "Malformed XML"),
        (BILLION_LAUGHS, 4110, "DOCTYPE is not accepted"),
        (EXTERNAL_ENTITY, 4110, "DOCTYPE is not accepted"),
        (SCHEMA_VIOLATION, 4100, "incidentType"),
        (WRONG_ORDER, 4100, "Element 'reporter': This element is not expected"),
        (b"<fileDetails><reportId>1</reportId><fileId>x</fileId></fileDetails>", 4100, "expected a <report>"),
        (b"<report>" + b"<a>" * 40 + b"</a>" * 40 + b"</report>", 4110, "nest deeper"),
    ],
    ids=[
        "truncated",
        "not-xml",
        "billion-laughs",
        "external-entity",
        "schema",
        "order",
        "wrong-root",
        "deep",
    ],
)
def test_bad_reports_are_refused_with_their_code_and_nothing_is_stored(ispws, body, expected, says):
    before = counts()
    response = ispws.post("/submit", content=body, headers=XML)
    assert response.status_code == 200
    code, description = answer(response)
    assert code == expected and says in description
    assert "root:" not in description  # nothing of /etc/passwd, ever
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_a_2_gb_upload_is_refused_before_it_is_read(ispws_server, provider, settings, docs):
    client = httpx.Client(
        base_url=f"{ispws_server.url}/ispws", auth=(provider.username, provider.password), timeout=60
    )
    open_report(client, docs)
    before = counts()
    auth = httpx.BasicAuth(provider.username, provider.password)._auth_header
    host, port = ispws_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            (
                "POST /ispws/upload HTTP/1.1\r\n"
                f"Host: {host}\r\nAuthorization: {auth}\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {2 * 1024**3}\r\n\r\n"
            ).encode()
            + b"--x\r\n"
        )
        reply = b""
        while b"</reportResponse>" not in reply:
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    code, description = answer(httpx.Response(413, content=body))
    assert code == 4000 and "larger than the limit" in description
    assert counts() == before
    assert not any(settings.INDUSTRY_SPOOL_DIR.glob("*")) if settings.INDUSTRY_SPOOL_DIR.exists() else True


@pytest.mark.django_db(transaction=True)
def test_documents_over_the_caps(ispws, docs, settings):
    before = counts()
    padding = b"<additionalInfo>" + b"x" * (2 * 1024 * 1024) + b"</additionalInfo></report>"
    big = docs.report().replace(b"</report>", padding)  # 2 MiB: over Django's form limit, under ours
    code, _ = answer(ispws.post("/submit", content=big, headers=XML))
    assert code == 0
    settings.INDUSTRY_MAX_XML_BYTES = 1024 * 1024
    code, description = answer(ispws.post("/submit", content=big, headers=XML))
    assert code == 4110 and "larger than the limit of 1048576 bytes" in description
    assert counts()[0] == before[0] + 1


@pytest.mark.django_db(transaction=True)
def test_another_providers_report_is_not_there(ispws, ispws_server, make_provider, docs):
    other = make_provider()
    with httpx.Client(
        base_url=f"{ispws_server.url}/ispws", auth=(other.username, other.password), timeout=60
    ) as theirs:
        their_report = open_report(theirs, docs)
    before = counts()
    for response in (
        upload(ispws, their_report, docs.new),
        ispws.post("/finish", data={"id": str(their_report)}),
        ispws.post("/retract", data={"id": str(their_report)}),
        ispws.post("/fileinfo", content=docs.details(their_report, "0" * 32), headers=XML),
    ):
        code, description = answer(response)
        assert code == 5001 and "No such report" in description
    assert counts() == before
    from openmnr.industry.models import Report

    assert Report.objects.get(pk=their_report).state == "open"


@pytest.mark.django_db(transaction=True)
def test_finish_after_retract_and_upload_after_finish(ispws, docs):
    report_id = open_report(ispws, docs)
    assert answer(upload(ispws, report_id, docs.new))[0] == 0
    assert answer(ispws.post("/retract", data={"id": str(report_id)}))[0] == 0
    from openmnr.industry.models import File, Report

    assert not File.objects.filter(report_id=report_id).exists()  # retract erases the files
    assert Report.objects.get(pk=report_id).xml == ""
    code, description = answer(ispws.post("/finish", data={"id": str(report_id)}))
    assert code == 5101 and "retracted" in description
    assert answer(ispws.post("/retract", data={"id": str(report_id)}))[0] == 5101
    assert answer(upload(ispws, report_id, docs.new))[0] == 5101

    finished = open_report(ispws, docs)
    assert ispws.post("/finish", data={"id": str(finished)}).status_code == 200
    before = counts()
    code, description = answer(upload(ispws, finished, docs.new))
    assert code == 5102 and "already finished" in description
    assert answer(ispws.post("/retract", data={"id": str(finished)}))[0] == 5102
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_fileinfo_for_an_unknown_file(ispws, docs):
    report_id = open_report(ispws, docs)
    before = counts()
    code, description = answer(
        ispws.post("/fileinfo", content=docs.details(report_id, "f" * 32), headers=XML)
    )
    assert code == 5002 and "No such file" in description
    code, description = answer(
        ispws.post("/fileinfo", content=docs.details(report_id, "x", classification="Z9"), headers=XML)
    )
    assert code == 4100 and "industryClassification" in description
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_malformed_requests_and_an_account_without_the_role(ispws, ispws_server, make_user, docs):
    report_id = open_report(ispws, docs)
    before = counts()
    assert answer(ispws.post("/finish", data={"id": "twelve"}))[0] == 4000
    assert answer(ispws.post("/finish", data={}))[0] == 4000
    assert answer(ispws.post("/upload", data={"id": str(report_id)}))[0] == 4000  # no file part
    assert (
        answer(
            ispws.post(
                "/upload", content=b"id=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        )[0]
        == 4000
    )
    response = ispws.get("/submit")
    assert response.status_code == 405 and answer(response)[0] == 4000
    assert answer(ispws.post("/finish", data={"id": "99999999"}))[0] == 5001
    assert counts() == before

    from openmnr.industry import credentials

    provider = make_user("industry_member")
    credential, password = credentials.issue(provider)
    provider.groups.clear()  # the role was taken away after the credential was issued
    with httpx.Client(
        base_url=f"{ispws_server.url}/ispws", auth=(credential.username, password), timeout=60
    ) as client:
        code, description = answer(client.post("/submit", content=docs.report(), headers=XML))
    assert code == 3100 and "Not authorized" in description
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_an_upload_past_the_file_cap_is_refused_and_stores_nothing(ispws, docs, settings):
    settings.INDUSTRY_MAX_FILES_PER_REPORT = 2
    report_id = open_report(ispws, docs)
    assert [answer(upload(ispws, report_id))[0] for _ in range(2)] == [0, 0]
    before = counts()
    code, description = answer(upload(ispws, report_id))
    assert code == 4000 and "at most 2 files" in description
    assert counts() == before
