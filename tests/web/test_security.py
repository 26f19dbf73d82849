"""Production settings, the Content Security Policy, request size caps and the pages' assets."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "openmnr"


@pytest.mark.slow
def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "DATABASE_URL", "PYTEST"))}
    env.update(
        SECRET_KEY="k" * 20 + "Zq8#x!v2@Lm9$Rt5%Wp1^Yb7&Nc3*Hd6(" + "s" * 20,
        OPENMNR_ALLOWED_HOSTS="hotline.example.org",
        OPENMNR_VAR_DIR=str(tmp_path),
        OPENMNR_AUDIT_KEY="a" * 64,
    )
    result = subprocess.run(
        [sys.executable, "-m", "openmnr.cli", "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENMNR_", "SECRET_KEY", "PYTEST"))}
    env["OPENMNR_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "openmnr.cli", "manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_cookies_and_transport(settings):
    from openmnr.web import settings as project

    assert project.DEBUG is False
    assert project.SESSION_COOKIE_NAME == "__Host-sessionid" and project.SESSION_COOKIE_SECURE
    assert project.CSRF_COOKIE_NAME == "__Host-csrftoken" and project.CSRF_COOKIE_SECURE
    assert project.SECURE_HSTS_SECONDS >= 31536000


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/accounts/sign-in/", "/no-such-page/", "/staff/", "/staff/audit/", "/accounts/api-keys/"]
)
def test_every_html_response_carries_a_strict_csp(staff_client, url):
    client, _ = staff_client("administrator")
    response = client.get(url)
    assert response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    # The nonce appears when the page uses it (pages with scripts); never a host or 'unsafe-inline'.
    assert re.fullmatch(r"'self'( 'nonce-[A-Za-z0-9_-]+')?", directives["script-src"])
    assert directives["style-src"] == "'self'"


def test_templates_have_no_inline_script_or_style():
    for template in SRC.rglob("templates/**/*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"inline script in {template}"
        assert not re.search(r"<style\b", text), f"inline <style> in {template}"
        assert not re.search(r"\sstyle=", text), f"style attribute in {template}"
        assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {template}"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/sign-in/", "/staff/", "/staff/audit/"])
def test_pages_request_nothing_from_other_hosts(staff_client, url):
    client, _ = staff_client("administrator")
    html = client.get(url).content.decode()
    for attr in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert not re.match(r"(?:[a-z]+:)?//", attr), f"{url} loads {attr}"


@pytest.mark.django_db
def test_oversized_body_is_refused_before_it_is_read(client, settings):
    settings.MAX_REQUEST_BYTES = 1000
    response = client.generic(
        "POST", "/accounts/sign-in/", b"x" * 1001, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert client.generic("POST", "/api/v1/whoami", b"{}", content_type="application/json").status_code != 413


@pytest.mark.django_db
def test_request_id_is_echoed(client):
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/")["X-Request-ID"])
    assert client.get("/", headers={"X-Request-ID": "abc-12345678"})["X-Request-ID"] == "abc-12345678"


def test_openapi_schema_is_served(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "OpenMNR API"
