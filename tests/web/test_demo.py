import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.accounts.roles import ROLES
from openmnr.web.demo import demo_users, load_demo


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_creates_one_user_per_role_and_rerunning_keeps_everything(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    first = io.StringIO()
    load_demo(first)
    users = get_user_model().objects.count()
    devices = TOTPDevice.objects.count()
    second = io.StringIO()
    load_demo(second)
    assert get_user_model().objects.count() == users
    assert TOTPDevice.objects.count() == devices
    for role in ROLES:
        user = get_user_model().objects.get(username=role.name.replace("_", "-"))
        assert user.groups.filter(name=role.name).exists()
    # The same logins are printed both times, each staff login with its TOTP secret.
    assert first.getvalue().split("Demo logins")[1] == second.getvalue().split("Demo logins")[1]
    printed = first.getvalue()
    assert len(re.findall(r"\n +TOTP secret [A-Z2-7]+\n", printed)) == sum(
        1 for _, role in demo_users() if role.staff
    )


@pytest.mark.slow
@pytest.mark.django_db
def test_every_demo_login_is_printed_and_kept_with_its_totp_secret(settings, tmp_path, monkeypatch):
    """Four eyes needs two senior analysts: both logins are printed, and the logins file holds every
    password and TOTP secret (readable by its owner only, saying it is for the demo only); the codes
    computed from the file's secrets sign in; the printed links use the demo's real port."""
    import base64
    import stat

    from django_otp.oath import totp

    from openmnr.accounts import signin

    monkeypatch.setenv("PORT", "9123")
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    load_demo(out)
    printed = out.getvalue()
    assert "senior-analyst-2" in printed.split("Demo logins")[1]
    assert "127.0.0.1:9123" in printed and ":8000" not in printed

    path = tmp_path / "demo-logins.txt"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "demo only" in text.splitlines()[0].lower() or "DEMO" in text.splitlines()[0]
    lines = dict(line.split("\t") for line in text.splitlines() if "\t" in line)
    for username, role in demo_users():
        if role.staff:
            assert lines[username].startswith("demo-"), username
            secret = lines[f"totp:{username}"]
            assert f"TOTP secret {secret}" in printed
            key = base64.b32decode(secret + "=" * (-len(secret) % 8))
            code = f"{totp(key):06d}"
            request = RequestFactory().post("/accounts/sign-in/")
            SessionMiddleware(lambda r: None).process_request(request)
            result = signin.sign_in(request, username, lines[username], code)
            assert result.ok, username


def test_the_demo_settings_turn_the_evidence_store_on_with_a_key_of_their_own(tmp_path, monkeypatch):
    from openmnr.commands import local_settings
    from openmnr.web.settings import read_local_settings

    monkeypatch.setenv("OPENMNR_VAR_DIR", str(tmp_path))
    local_settings.run(None)
    values = read_local_settings(tmp_path / "local.env")
    assert values["OPENMNR_KEEP_EVIDENCE"] == "1"
    from openmnr.core.evidence import load_key

    assert len(load_key(values["OPENMNR_EVIDENCE_KEY"])) == 32
    # A file from before the evidence store was on gains it once, and keeps its secret key.
    (tmp_path / "local.env").write_text("SECRET_KEY=kept\nOPENMNR_DEBUG=1\n")
    local_settings.run(None)
    local_settings.run(None)
    values = read_local_settings(tmp_path / "local.env")
    assert values["SECRET_KEY"] == "kept" and values["OPENMNR_KEEP_EVIDENCE"] == "1"
    assert (tmp_path / "local.env").read_text().count("OPENMNR_EVIDENCE_KEY=") == 1


@pytest.mark.django_db
def test_demo_refuses_to_run_outside_demo_mode(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        load_demo(io.StringIO())
