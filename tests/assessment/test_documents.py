"""Evidence documents: the type comes from the content, sizes are capped, files are stored under
the evidence folder with random names and only ever served as downloads."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PIL import Image

from openmnr.assessment import documents
from openmnr.assessment.errors import EvidenceError
from openmnr.assessment.models import Evidence

pytestmark = pytest.mark.django_db

BASE = "/staff/assessment/"


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "National strategy on CSEA")
    page.save()
    return out.getvalue()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


ODT = _zip({"mimetype": documents.ODT.encode(), "content.xml": b"<office:document-content/>"})
DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def _upload(client, cycle, name, data, number=12, title="Hotline decree"):
    return client.post(
        f"{BASE}{cycle.pk}/capabilities/{number}/evidence/",
        {"kind": "document", "title": title, "document": SimpleUploadedFile(name, data)},
    )


@pytest.mark.parametrize(
    "name, data, expected",
    [
        ("decree.pdf", _pdf(), documents.PDF),
        ("screenshot.png", _png(), documents.PNG),
        ("minutes.odt", ODT, documents.ODT),
        ("minutes.docx", DOCX, documents.DOCX),
        ("notes.txt", "Réunion du comité, 12 mars\n".encode(), documents.TXT),
        ("figures.csv", b"year,reports\n2024,120\n", documents.CSV),
        ("named-wrongly.bin", _pdf(), documents.PDF),  # the name does not decide
    ],
)
def test_allowed_documents_are_stored_with_the_type_of_their_content(
    client, as_user, coordinator, cycle, settings, name, data, expected
):
    as_user(coordinator)
    assert _upload(client, cycle, name, data).status_code == 302
    item = Evidence.objects.get()
    assert item.content_type == expected and item.size == len(data)
    stored = settings.ASSESSMENT_EVIDENCE_DIR / item.stored_name
    assert stored.read_bytes() == data and name not in str(stored)

    response = client.get(f"{BASE}{cycle.pk}/evidence/{item.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == expected
    assert response["X-Content-Type-Options"] == "nosniff"
    extension = documents.TYPES[expected][1]
    assert response["Content-Disposition"] == f'attachment; filename="Hotline-decree{extension}"'


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>\x00", "not one of the allowed types"),
        ("sheet.xlsx", _zip({"xl/workbook.xml": b"<workbook/>"}), "not an OpenDocument text or Word"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not an OpenDocument text or Word"),
        ("empty.txt", b"", "empty"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00", "not one of the allowed types"),
    ],
)
def test_other_files_are_refused_and_nothing_is_kept(
    client, as_user, coordinator, cycle, settings, name, data, message
):
    as_user(coordinator)
    response = _upload(client, cycle, name, data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Evidence.objects.exists()
    folder = settings.ASSESSMENT_EVIDENCE_DIR
    assert not folder.exists() or not any(folder.iterdir())


def test_documents_over_the_size_limit_are_refused(client, as_user, coordinator, cycle, settings):
    settings.ASSESSMENT_EVIDENCE_MAX_BYTES = 1000
    as_user(coordinator)
    response = _upload(client, cycle, "long.txt", b"a" * 1001)
    assert response.status_code == 400 and "larger than the limit" in response.content.decode()
    assert _upload(client, cycle, "short.txt", b"a" * 1000).status_code == 302


def test_links_must_be_web_addresses_and_notes_need_text(client, as_user, coordinator, cycle):
    as_user(coordinator)
    url = f"{BASE}{cycle.pk}/capabilities/12/evidence/"
    assert client.post(url, {"kind": "link", "title": "x", "url": "javascript:alert(1)"}).status_code == 400
    assert client.post(url, {"kind": "note", "title": "x", "note": "  "}).status_code == 400
    assert (
        client.post(
            url, {"kind": "link", "title": "x", "url": "https://example.org/x", "criterion": "3.1.a"}
        ).status_code
        == 400
    )
    assert not Evidence.objects.exists()


def test_removing_a_document_deletes_the_file_and_keeps_the_history(
    client, as_user, coordinator, cycle, settings, django_capture_on_commit_callbacks
):
    as_user(coordinator)
    _upload(client, cycle, "decree.pdf", _pdf())
    item = Evidence.objects.get()
    stored = settings.ASSESSMENT_EVIDENCE_DIR / item.stored_name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{BASE}{cycle.pk}/evidence/{item.pk}/remove/")
    assert response.status_code == 302
    assert not Evidence.objects.exists() and not stored.exists()
    removed = cycle.history.get(action="remove_evidence")
    assert removed.changes["evidence"][0].startswith("document: Hotline decree (application/pdf")


def test_contributor_of_another_domain_cannot_download_into_or_remove(
    client, as_user, coordinator, make_user, cycle, assign
):
    as_user(coordinator)
    _upload(client, cycle, "decree.pdf", _pdf())
    item = Evidence.objects.get()
    analyst = make_user("analyst")
    assign(cycle, "industry", analyst)
    as_user(analyst)
    # Reading is open to everyone in the cycle; changing is not.
    assert client.get(f"{BASE}{cycle.pk}/evidence/{item.pk}/").status_code == 200
    assert client.post(f"{BASE}{cycle.pk}/evidence/{item.pk}/remove/").status_code == 403
    assert _upload(client, cycle, "more.pdf", _pdf()).status_code == 403
    assert Evidence.objects.count() == 1


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200))
def test_binary_without_a_known_signature_is_never_accepted(tmp_path, data):
    data = b"\x00" + data  # no allowed type starts with a NUL byte
    path = tmp_path / "blob"
    path.write_bytes(data)
    with pytest.raises(EvidenceError):
        documents.sniff(path, "anything.txt")
