"""``openmnr urllist check``: a licensee's command line against a running server."""

import pytest

from openmnr.accounts import apikeys
from openmnr.blocking import keys, services
from openmnr.cli import main
from openmnr.hotline import services as hotline


@pytest.mark.django_db(transaction=True)
def test_urllist_check_against_a_live_server(live_server, make_user, settings, tmp_path, monkeypatch, capsys):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    hotline.file_demo_report("https://files.example/album/1.jpg", "test")
    services.publish()
    owner = make_user("blocking_licensee")
    _, key = apikeys.create_api_key(owner=owner, name="resolver", scopes=["blocking.download_list"])
    pem = tmp_path / "list.pem"
    pem.write_bytes(keys.public_key_pem())
    state = tmp_path / "state.json"
    common = ["--server", live_server.url, "--public-key", str(pem), "--state", str(state)]

    monkeypatch.delenv("OPENMNR_URLLIST_KEY", raising=False)
    assert main(["urllist", "check", "http://files.example/album/1.jpg", *common]) == 2
    monkeypatch.setenv("OPENMNR_URLLIST_KEY", key)
    capsys.readouterr()
    assert main(["urllist", "check", "http://FILES.example/album/1.jpg#x", *common]) == 1
    assert "LISTED (files.example/album/1.jpg)" in capsys.readouterr().out
    assert state.exists()
    assert main(["urllist", "check", "https://files.example/album/2.jpg", *common]) == 0
    assert "not listed" in capsys.readouterr().out
    monkeypatch.setenv("OPENMNR_URLLIST_KEY", "omnr_wrong_key")
    state.unlink()
    assert main(["urllist", "check", "https://files.example/album/1.jpg", *common]) == 2
    assert "401" in capsys.readouterr().err


def test_urllist_expressions_needs_no_server(capsys):
    assert main(["urllist", "expressions", "http://a.b.c/1/2.html?param=1"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["a.b.c/1/2.html?param=1", "a.b.c/1/2.html"]


@pytest.mark.django_db(transaction=True)
def test_the_reference_client_over_http_waits_as_the_server_says_and_verifies_each_answer(
    live_server, make_user, settings, tmp_path
):
    """Over real HTTP (127.0.0.1): a second copy of a licensee's key asking within the minimum wait
    gets 429 and waits for Retry-After; a confirmation's proof holds with the key in the signed list."""
    from cryptography.hazmat.primitives import serialization

    from openmnr.core.urllist.client import HttpTransport, TooSoon, UrlListClient

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    hotline.file_demo_report("https://files.example/album/1.jpg", "test")
    services.publish()
    _, key = apikeys.create_api_key(
        owner=make_user("blocking_licensee"), name="resolver", scopes=["blocking.download_list"]
    )
    public = serialization.load_pem_public_key(keys.public_key_pem())
    first = UrlListClient(HttpTransport(live_server.url, key), public)
    assert first.update(now=1000.0)
    assert first.state.oprf_public_key and first.check("http://files.example/album/1.jpg").listed

    second = UrlListClient(HttpTransport(live_server.url, key), public)  # the same key, another resolver
    with pytest.raises(TooSoon) as refused:
        second.transport.snapshot()
    assert 0 < refused.value.retry_after <= settings.BLOCKING_MIN_WAIT_SECONDS
    assert second.update(now=1000.0) is False and second.state.version == 0
    assert second.next_update_at >= 1000.0 + refused.value.retry_after - 1
