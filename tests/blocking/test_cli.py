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
