"""The public report form and status page, as a reporter uses them (no account, no JavaScript)."""

import re
from urllib.parse import urlencode

import pytest

from openmnr.hotline.models import Case, ReportedURL, Submission

pytestmark = pytest.mark.django_db

REPORT = {
    "urls": "https://example.org/a\nhttps://EXAMPLE.org:443/b?utm_source=mail",
    "found_where": "web_page",
    "content_kind": "csam",
    "description": "",
    "email": "",
}


def post(client, url, data, **extra):
    """POST as a browser sends this form: URL-encoded, the only encoding it accepts."""
    return client.post(url, urlencode(data), content_type="application/x-www-form-urlencoded", **extra)


def _code(response) -> str:
    return re.search(r'id="tracking-code">([0-9A-Z-]+)<', response.content.decode()).group(1)


def test_form_is_labelled_and_needs_nothing_from_elsewhere(client):
    response = client.get("/report/")
    html = response.content.decode()
    assert response.status_code == 200
    for field in ("urls", "email", "description"):
        assert f'<label for="id_{field}"' in html
    assert html.count("<fieldset") == 2 and html.count("<legend>") == 2  # the two choice groups
    assert 'type="file"' not in html and "multipart" not in html
    for attr in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert not re.match(r"(?:[a-z]+:)?//", attr), attr


def test_landing_page_links_to_the_form(client):
    html = client.get("/").content.decode()
    assert 'href="/report/"' in html and 'href="/report/status/"' in html


def test_a_report_gets_a_tracking_code_and_its_status(client):
    response = post(client, "/report/", REPORT, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    code = _code(response)
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}", code)
    submission = Submission.objects.get()
    assert submission.source == "public" and submission.found_where == "web_page"
    assert sorted(Case.objects.values_list("url", flat=True)) == [
        "https://example.org/a",
        "https://example.org/b",
    ]

    status = post(client, "/report/status/", {"code": code.lower().replace("-", " ")})
    assert status.status_code == 200
    assert '<strong id="report-status">Received</strong>' in status.content.decode()


def test_the_reporters_address_is_kept_nowhere(client):
    from openmnr.accounts.models import RateBucket
    from openmnr.audit.models import AuditEvent

    post(client, "/report/", REPORT, REMOTE_ADDR="203.0.113.77")
    event = AuditEvent.objects.get(action="hotline.report.receive")
    assert event.actor == "public" and event.client_address == ""
    assert "203.0.113.77" not in str(event.detail)
    assert all("203.0.113.77" not in key for key in RateBucket.objects.values_list("key", flat=True))
    submission = Submission.objects.get()
    assert "203.0.113.77" not in str([getattr(submission, f.attname) for f in Submission._meta.fields])


def test_a_url_already_open_joins_its_case(client):
    post(client, "/report/", REPORT)
    post(client, "/report/", {**REPORT, "urls": "HTTPS://example.org/a#top"})
    case = Case.objects.get(url="https://example.org/a")
    assert case.reporter_count == 2
    assert Case.objects.count() == 2 and ReportedURL.objects.filter(case=case).count() == 2


def test_mistakes_are_listed_in_an_error_summary(client):
    response = post(client, "/report/", {"urls": "ftp://example.org/x", "description": ""})
    html = response.content.decode()
    assert response.status_code == 400
    summary = re.search(r'<div class="error-summary" role="alert".*?</div>', html, re.S).group(0)
    assert 'href="#id_urls"' in summary and "Address 1 is not a web address" in summary
    assert 'href="#id_found_where_0"' in summary and 'href="#id_content_kind_0"' in summary
    assert 'aria-invalid="true"' in html
    assert Submission.objects.count() == 0


def test_a_file_is_refused_and_nothing_is_stored(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/report/", {**REPORT, "evidence": SimpleUploadedFile("x.jpg", b"\xff\xd8\xff" + b"0" * 100)}
    )
    assert response.status_code == 400
    assert "Files are not accepted" in response.content.decode()
    assert Submission.objects.count() == 0 and Case.objects.count() == 0


def test_a_typo_in_the_code_is_caught_and_an_unknown_code_is_not_found(client):
    code = _code(post(client, "/report/", REPORT)).replace("-", "")
    typo = code[:5] + ("1" if code[5] != "1" else "2") + code[6:]
    response = post(client, "/report/status/", {"code": typo})
    assert response.status_code == 400 and "not a tracking code" in response.content.decode()

    from openmnr.hotline import codes

    response = post(client, "/report/status/", {"code": codes.new_code()})
    assert response.status_code == 404 and "no report with this tracking code" in response.content.decode()


def test_reports_from_one_address_are_limited(client, settings):
    settings.HOTLINE_REPORTS_PER_HOUR = 2
    statuses = [post(client, "/report/", REPORT, REMOTE_ADDR="198.51.100.4").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert post(client, "/report/", REPORT, REMOTE_ADDR="198.51.100.5").status_code == 200
    assert Submission.objects.count() == 3


def test_the_form_speaks_brazilian_portuguese(client):
    html = client.get("/report/", headers={"Accept-Language": "pt-BR"}).content.decode()
    assert 'lang="pt-br"' in html
    assert "Denunciar" in html and "Endereços" in html
    response = post(client, "/report/", REPORT, headers={"Accept-Language": "pt-BR"})
    assert "código de acompanhamento" in response.content.decode()
