"""Administrators issue provider credentials from a staff page; the demo sets up a provider and a
finished report."""

import base64
import io

import pytest

from helpers import sign_in_client


@pytest.mark.django_db
def test_an_administrator_issues_a_credential_shown_once_and_stored_hashed(staff_client, make_user):
    from openmnr.industry import credentials
    from openmnr.industry.models import Credential

    provider = make_user("industry_member", username="acme")
    client, admin = staff_client("administrator")
    page = client.post("/staff/industry/credentials/", {"provider": provider.pk}, follow=True)
    text = page.content.decode()
    assert page.redirect_chain == [("/staff/industry/credentials/", 302)]  # a reload issues nothing
    assert page.status_code == 200 and "never shown again" in text and "no-store" in page["Cache-Control"]
    credential = Credential.objects.get(provider=provider)
    password = text.split("password <code>")[1].split("</code>")[0]
    assert password not in credential.secret_sha256
    header = "Basic " + base64.b64encode(f"{credential.username}:{password}".encode()).decode()
    assert credentials.authenticate(header) == credential
    assert password not in client.get("/staff/industry/credentials/").content.decode()

    session = client.session
    from openmnr.accounts.stepup import SESSION_KEY

    session[SESSION_KEY] = 0
    session.save()
    page = client.post("/staff/industry/credentials/", {"provider": provider.pk}, follow=True)
    assert "fresh authenticator code" in page.content.decode()
    assert Credential.objects.filter(provider=provider).count() == 1

    sign_in_client(client, admin)
    client.post(f"/staff/industry/credentials/{credential.pk}/revoke/")
    assert credentials.authenticate(header) is None
    law, _ = staff_client("law_enforcement")
    assert law.get("/staff/industry/credentials/").status_code == 403


@pytest.mark.django_db
def test_demo_sets_up_a_provider_and_a_finished_report_with_known_and_new_files(settings, tmp_path):
    from openmnr.industry import credentials
    from openmnr.industry.models import Case, Report
    from openmnr.web.demo import load_demo

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.KEEP_EVIDENCE = False
    load_demo(io.StringIO())
    text = (tmp_path / "demo-logins.txt").read_text()
    lines = dict(line.split("\t") for line in text.splitlines() if not line.startswith("#"))
    ((username, password),) = [
        (k.removeprefix("ispws:"), v) for k, v in lines.items() if k.startswith("ispws:")
    ]
    header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    assert credentials.authenticate(header).provider.username == "industry-member"
    case = Case.objects.get(report__is_demo=True)
    assert case.report.state == "finished" and (case.new_files, case.known_files) == (1, 1)

    load_demo(io.StringIO())  # again: nothing twice, same credential
    assert Report.objects.count() == 1
    assert credentials.authenticate(header) is not None
    assert f"ispws:{username}" in (tmp_path / "demo-logins.txt").read_text()
