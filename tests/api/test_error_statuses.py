"""Whatever refuses a call under /api/ (an operation, django-ninja's routing, Django's handlers, the
body-size middleware, a bug), the integrator gets the one error shape with a status it can act on.
Over real HTTP against a live server on 127.0.0.1, on the platform's real routes."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from openmnr.accounts import apikeys


def _call(live_server, method, path, body=b"", headers=None):
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body and "Transfer-Encoding" not in (headers or {}):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _shape(status, headers, content) -> dict:
    assert headers["Content-Type"].startswith("application/json"), (status, headers, content[:200])
    body = json.loads(content)
    assert set(body) == {"error", "detail", "fields"}, body
    assert isinstance(body["error"], str) and body["detail"] and body["fields"] == {}
    assert "<" not in body["detail"] and "Traceback" not in body["detail"], body
    return body


@pytest.fixture
def key(make_user):
    owner = make_user("industry_member")
    _key, text = apikeys.create_api_key(owner=owner, name="Statuses", scopes=["banks.match_hashes"])
    return {"Authorization": f"Bearer {text}"}


@pytest.mark.django_db(transaction=True)
def test_a_method_a_path_does_not_take_is_405_in_the_shape(live_server, key):
    status, headers, content = _call(live_server, "GET", "/api/v1/match", headers=key)
    assert status == 405 and "POST" in headers["Allow"]
    body = _shape(status, headers, content)
    assert body["error"] == "method_not_allowed" and "POST" in body["detail"]
    status, headers, content = _call(live_server, "DELETE", "/api/v1/whoami", headers=key)
    assert status == 405 and _shape(status, headers, content)["error"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-operation", "/api/v2/whoami", "/api/v1/whoami/more", "/api/"]
)
def test_an_unknown_api_path_is_404_in_the_shape(live_server, key, path):
    status, headers, content = _call(live_server, "GET", path, headers=key)
    assert status == 404
    body = _shape(status, headers, content)
    assert body["error"] == "not_found" and "/api/v1/docs" in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_bodies_refused_before_they_are_read_answer_in_the_shape(live_server, key, settings):
    settings.MAX_REQUEST_BYTES = 1000
    big = b"x" * 2000
    for path in ("/api/v1/match", "/api/v1/no-such-operation"):
        status, headers, content = _call(
            live_server, "POST", path, big, {**key, "Content-Type": "application/json"}
        )
        assert status == 413, path
        body = _shape(status, headers, content)
        assert body["error"] == "too_large" and "1000 bytes" in body["detail"]
    chunked = {**key, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    status, headers, content = _call(live_server, "POST", "/api/v1/match", b"2\r\n{}\r\n0\r\n\r\n", chunked)
    assert status == 411 and _shape(status, headers, content)["error"] == "length_required"
    bad_length = {**key, "Content-Type": "application/json", "Content-Length": "many"}
    status, headers, content = _call(live_server, "POST", "/api/v1/match", headers=bad_length)
    assert status == 400 and _shape(status, headers, content)["error"] == "invalid_input"


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_is_429_in_the_shape(live_server, make_user):
    owner = make_user("industry_member")
    _key, text = apikeys.create_api_key(owner=owner, name="Slow", scopes=[], rate_limit_per_minute=1)
    auth = {"Authorization": f"Bearer {text}"}
    assert _call(live_server, "GET", "/api/v1/whoami", headers=auth)[0] == 200
    status, headers, content = _call(live_server, "GET", "/api/v1/whoami", headers=auth)
    assert status == 429 and headers["Retry-After"]
    assert _shape(status, headers, content)["error"] == "rate_limited"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_500_in_the_shape_without_its_traceback(live_server, key, monkeypatch, settings, debug):
    from openmnr.web import api

    def broken(user):
        raise RuntimeError("an internal detail that must not reach the caller")

    settings.DEBUG = debug
    monkeypatch.setattr(api, "roles_of", broken)
    status, headers, content = _call(live_server, "GET", "/api/v1/whoami", headers=key)
    assert status == 500
    body = _shape(status, headers, content)
    assert body["error"] == "server_error" and "X-Request-ID" in body["detail"]
    assert b"internal detail" not in content and headers["X-Request-ID"]


@pytest.mark.django_db(transaction=True)
def test_pages_outside_the_api_keep_their_html(live_server):
    status, headers, content = _call(live_server, "GET", "/no-such-page/")
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    status, headers, _content = _call(live_server, "GET", "/api/v1/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
