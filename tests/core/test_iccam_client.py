"""The ICCAM API 3 client against a fake ICCAM on 127.0.0.1 with real mutual TLS: tokens, the one
re-login after a 401, and a typed error for every kind of failure. No Django here: the client is
pure protocol code."""

import pytest

from fake_iccam import FakeIccam, make_pki
from openmnr.core.exchange.iccam import (
    IccamAuthError,
    IccamClient,
    IccamConfig,
    IccamProtocolError,
    IccamRejected,
    IccamTLSError,
    IccamUnavailable,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def fake(pki):
    server = FakeIccam(pki).start()
    yield server
    server.stop()


def config(fake, pki, **changes) -> IccamConfig:
    values = dict(
        base_url=fake.url,
        username=fake.username,
        password=fake.password,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
        ca_cert=pki.ca_cert,
        timeout=5,
    )
    values.update(changes)
    return IccamConfig(**values)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_login_call_and_logout(fake, pki):
    fake.add_report(41, ["https://site.example/page"])
    with IccamClient(config(fake, pki)) as client:
        assert client.no_reference(10) == [{"reportId": 41, "contentId": 411}]
        assert client.content(411)["url"]["urlString"] == "https://site.example/page"
    paths = [(r.method, r.path) for r in fake.requests]
    assert paths == [
        ("POST", "/api/Authentication"),
        ("GET", "/api/rest/Content/no-reference"),
        ("GET", "/api/rest/Content/411"),
        ("POST", "/api/Authentication/logout"),
    ]
    assert fake.requests[1].authorised and fake.requests[1].query["maxResults"] == ["10"]
    assert not fake.tokens  # the token was given back


def test_the_token_is_refreshed_before_it_ends(fake, pki):
    clock = Clock()
    fake.token_lifetime = 600
    with IccamClient(config(fake, pki), clock=clock) as client:
        client.no_reference(5)
        clock.now += 600 - 30  # within the refresh margin
        client.no_reference(5)
        assert client.logins == 1
    assert [r.path for r in fake.requests].count("/api/Authentication/refresh") == 1


def test_a_refused_refresh_becomes_a_fresh_login(fake, pki):
    clock = Clock()
    with IccamClient(config(fake, pki), clock=clock) as client:
        client.no_reference(5)
        fake.refresh_tokens.clear()
        clock.now += 3600
        client.no_reference(5)
        assert client.logins == 2


def test_a_401_leads_to_one_relogin_and_the_call_succeeds(fake, pki):
    with IccamClient(config(fake, pki)) as client:
        client.no_reference(5)
        fake.expire_tokens()  # ICCAM ends the token early: our clock still thinks it is good
        assert client.no_reference(5) == []
        assert client.logins == 2


def test_a_401_after_a_fresh_login_is_an_error_never_a_loop(fake, pki):
    fake.fail("GET", r"no-reference", 401, times=-1)
    with IccamClient(config(fake, pki)) as client, pytest.raises(IccamAuthError):
        client.no_reference(5)
    assert len(fake.calls("GET", "no-reference")) == 2
    assert len(fake.calls("POST", r"/Authentication$")) == 2


def test_a_wrong_password_is_an_auth_error(fake, pki):
    with IccamClient(config(fake, pki, password="wrong")) as client, pytest.raises(IccamAuthError):
        client.no_reference(5)


def test_503_is_unavailable_and_can_be_retried(fake, pki):
    fake.fail("GET", "no-reference", 503)
    with IccamClient(config(fake, pki)) as client:
        with pytest.raises(IccamUnavailable) as caught:
            client.no_reference(5)
        assert not caught.value.maybe_applied
        assert client.no_reference(5) == []


def test_field_errors_come_back_typed(fake, pki):
    fake.add_report(41, ["https://site.example/page"])
    with IccamClient(config(fake, pki)) as client, pytest.raises(IccamRejected) as caught:
        client.put_assessment(411, {"classification": 3})
    assert caught.value.status == 400
    assert caught.value.field_errors == {"classification": ["The classification is not valid."]}
    assert "classification: The classification is not valid." in str(caught.value)


def test_an_answer_that_is_not_json(fake, pki):
    fake.fail("GET", "no-reference", 200, body=b"<html>maintenance</html>")
    with IccamClient(config(fake, pki)) as client, pytest.raises(IccamProtocolError, match="not JSON"):
        client.no_reference(5)


def test_a_slow_server_times_out(fake, pki):
    fake.fail("GET", "no-reference", delay=1.5)
    with (
        IccamClient(config(fake, pki, timeout=0.3)) as client,
        pytest.raises(IccamUnavailable, match="timed out"),
    ):
        client.no_reference(5)


def test_a_post_without_answer_may_have_been_applied(fake, pki):
    fake.add_report(41, ["https://site.example/page"])
    fake.fail("POST", r"/actions$", drop_after_handling=True)
    body = {"actionType": 2, "actioningAnalystName": "x", "actionDate": "2026-01-01T00:00:00Z"}
    with IccamClient(config(fake, pki)) as client, pytest.raises(IccamUnavailable) as caught:
        client.post_action(411, body)
    assert caught.value.maybe_applied
    assert len(fake.contents[411]["actions"]) == 1  # it was: the caller must not blindly repeat it


def test_a_server_certificate_that_does_not_verify(pki):
    fake = FakeIccam(pki, certificate="rogue").start()
    try:
        with IccamClient(config(fake, pki)) as client, pytest.raises(IccamTLSError):
            client.no_reference(5)
        assert not fake.requests  # nothing, not even the password, went to the impostor
    finally:
        fake.stop()


@pytest.mark.parametrize("which", ["none", "rogue"])
def test_a_client_certificate_the_server_refuses(fake, pki, which):
    cert = {"none": ("", ""), "rogue": (pki.rogue_client_cert, pki.rogue_client_key)}[which]
    with IccamClient(config(fake, pki, client_cert=cert[0], client_key=cert[1])) as client:
        with pytest.raises(IccamUnavailable):
            client.no_reference(5)
    assert not fake.requests


def test_only_https(fake, pki):
    with pytest.raises(IccamTLSError):
        IccamClient(config(fake, pki, base_url=fake.url.replace("https", "http")))


def test_a_new_report_returns_its_id(fake, pki):
    body = {"urls": [{"urlString": "https://a.example/", "isSourceUrl": True, "hostingCountryCode": "DE"}]}
    with IccamClient(config(fake, pki)) as client:
        report_id = client.create_report(body)
        assert fake.reports[report_id]["reportContents"][0]["urlString"] == "https://a.example/"
        with pytest.raises(IccamRejected) as caught:
            client.create_report({"urls": [{"urlString": "https://b.example/", "isSourceUrl": True}]})
    assert "urls[0].hostingCountryCode" in caught.value.field_errors
