"""/ispws/ runs a shorter middleware chain (openmnr.web.lean): what its answers keep, and a view
placed under it that does not check its caller itself is refused."""

import base64

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path


def unmarked(request):
    return HttpResponse(b"open to anyone")


urlpatterns = [
    path("ispws/unmarked", unmarked),
    path("ispws/", include("openmnr.industry.ispws_urls")),
]


def basic(provider) -> str:
    return "Basic " + base64.b64encode(f"{provider.username}:{provider.password}".encode()).decode()


@pytest.mark.django_db
def test_an_ispws_answer_keeps_its_security_headers_and_needs_no_session(client, provider):
    answer = client.get("/ispws/status", HTTP_AUTHORIZATION=basic(provider))
    assert answer.status_code == 200 and b"<responseCode>0</responseCode>" in answer.content
    assert "no-store" in answer["Cache-Control"]
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["X-Frame-Options"] == "DENY"
    assert len(answer["X-Request-ID"]) >= 8
    assert int(answer["Content-Length"]) == len(answer.content)
    assert "sessionid" not in answer.cookies and "csrftoken" not in answer.cookies
    assert client.get("/ispws/status").status_code == 401


@pytest.mark.django_db
def test_the_staff_site_still_runs_the_whole_chain(client):
    page = client.get("/staff/industry/")
    assert page.status_code == 302 and "sign-in" in page["Location"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_view_under_ispws_that_does_not_authenticate_itself_is_refused(client, provider):
    assert client.get("/ispws/unmarked").status_code == 404
    assert client.get("/ispws/status", HTTP_AUTHORIZATION=basic(provider)).status_code == 200
