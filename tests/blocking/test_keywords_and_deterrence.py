"""The keyword list (four eyes, signed export to licensees), the deterrence page (help, counts only)
and capability 16's live figures."""

import base64
import json
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from django.utils import timezone

from openmnr.accounts import apikeys
from openmnr.assessment.indicators import compute
from openmnr.audit.models import AuditEvent
from openmnr.blocking import keys, services
from openmnr.blocking.errors import FourEyesViolation, InvalidInput, NotAllowed
from openmnr.blocking.models import DeterrenceCount, Keyword
from openmnr.hotline import services as hotline

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path


def test_a_keyword_is_exported_only_after_a_second_senior_analyst_confirmed_it(client, make_user, seniors):
    proposer, checker = seniors
    keyword = services.keywords.propose(
        term="  some   code word ", language="pt-BR", category="codeword", by=proposer
    )
    assert keyword.term == "some code word" and keyword.status == Keyword.Status.PENDING
    with pytest.raises(FourEyesViolation):
        services.keywords.confirm(keyword.pk, by=proposer)
    with pytest.raises(NotAllowed):
        services.keywords.confirm(keyword.pk, by=make_user("analyst"))

    licensee = make_user("blocking_licensee")
    _, key = apikeys.create_api_key(owner=licensee, name="chat", scopes=["blocking.download_keywords"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/keywords", **auth).json()["payload"]["keywords"] == []

    assert services.keywords.confirm(keyword.pk, by=checker).status == Keyword.Status.ACTIVE
    document = client.get("/api/v1/keywords", **auth).json()
    payload = _verify_keywords(document, keys.signing_key().public_key())
    assert payload["keywords"] == [{"term": "some code word", "language": "pt-BR", "category": "codeword"}]
    document["payload"]["keywords"][0]["term"] = "altered"
    with pytest.raises(InvalidSignature):
        _verify_keywords(document, keys.signing_key().public_key())
    assert AuditEvent.objects.filter(action="blocking.keyword_download").count() == 2
    # The audit log names the keyword, never its term.
    assert "code word" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def _verify_keywords(document, public_key):
    payload = document["payload"]
    public_key.verify(
        base64.b64decode(document["signature"]),
        json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(),
    )
    return payload


def test_refused_keyword_steps_are_audited_and_change_nothing(seniors, make_user):
    proposer, checker = seniors
    with pytest.raises(InvalidInput):
        services.keywords.propose(term="x", language="not a tag", category="seeking", by=proposer)
    with pytest.raises(NotAllowed):
        services.keywords.propose(term="x", language="en", category="seeking", by=make_user("analyst"))
    assert not Keyword.objects.exists()
    assert AuditEvent.objects.filter(action="blocking.keyword_propose", outcome="denied").count() == 1
    keyword = services.keywords.propose(term="x", language="en", category="seeking", by=proposer)
    with pytest.raises(InvalidInput, match="already"):
        services.keywords.propose(term="x ", language="en", category="seeking", by=checker)
    services.keywords.disable(keyword.pk, by=checker, reason="too broad: matches ordinary searches")
    assert Keyword.objects.get().status == Keyword.Status.DISABLED


def test_the_keyword_page_lets_a_second_senior_confirm(client, staff_client, make_user):
    browser, proposer = staff_client("senior_analyst")
    response = browser.post(
        "/staff/blocking/keywords/", {"term": "term one", "language": "en", "category": "seeking"}
    )
    assert response.status_code == 302
    page = browser.get("/staff/blocking/keywords/").content.decode()
    assert "term one" in page and ">Confirm<" not in page, "the proposer is not offered to confirm"
    bad = browser.post("/staff/blocking/keywords/", {"term": "", "language": "en", "category": "seeking"})
    assert bad.status_code == 400
    analyst_client, _ = staff_client("analyst")
    assert analyst_client.get("/staff/blocking/keywords/").status_code == 200


def test_the_deterrence_page_warns_offers_help_and_counts_only(client, settings):
    settings.BLOCKING_HELP_SERVICES = [
        {
            "name": "Helpline Test",
            "description": "confidential help",
            "phone": "0800 000 000",
            "url": "https://help.example/",
        }
    ]
    hotline.file_demo_report("https://files.example/1", "test")
    version = services.publish().version
    response = client.get(
        f"/blocked/?v={version}", HTTP_USER_AGENT="Secret-Agent", HTTP_REFERER="https://x.example/p"
    )
    page = response.content.decode()
    assert response.status_code == 451
    for words in ("illegal", "real child", "confidential", "Helpline Test", "0800 000 000"):
        assert words in page
    assert response["Referrer-Policy"] == "no-referrer" and "Set-Cookie" not in response
    client.get("/blocked/?v=999")  # an unknown version counts as none
    click = client.get(f"/blocked/help/0/?v={version}")
    assert click.status_code == 302 and click["Location"] == "https://help.example/"
    assert client.get("/blocked/help/5/").status_code == 404
    counts = {(c.list_version, c.views, c.help_clicks) for c in DeterrenceCount.objects.all()}
    assert counts == {(version, 1, 1), (None, 1, 0)}
    # Nothing about the visitor anywhere: no audit event, no row with the agent or referrer.
    assert not AuditEvent.objects.filter(action__startswith="blocking.deter").exists()
    assert [f.name for f in DeterrenceCount._meta.get_fields()] == [
        "id",
        "day",
        "list_version",
        "views",
        "help_clicks",
    ]


def test_the_deterrence_page_is_translated(client):
    page = client.get("/blocked/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Esta página foi bloqueada" in page


def test_capability_16_figures(make_user):
    today = timezone.localdate()
    assert compute("blocking.list_size", today - timedelta(days=30), today) is None
    hotline.file_demo_report("https://files.example/1", "test")
    hotline.file_demo_report("https://files.example/2", "test")
    services.publish()
    make_user("blocking_licensee")
    make_user("blocking_licensee")
    assert compute("blocking.list_size", today - timedelta(days=30), today).value == 2
    assert compute("blocking.licensees", today - timedelta(days=30), today).value == 2
    assert compute("blocking.list_age_hours", today - timedelta(days=30), today).value < 24


def test_the_dashboard_shows_size_versions_and_counts(staff_client):
    hotline.file_demo_report("https://files.example/1", "test")
    browser, _ = staff_client("senior_analyst")
    assert browser.post("/staff/blocking/publish/").status_code == 302
    page = browser.get("/staff/blocking/").content.decode()
    assert 'id="list-size">1<' in page and "deterrence-counts" not in page
    coordinator, _ = staff_client("national_coordinator")
    page = coordinator.get("/staff/blocking/").content.decode()
    assert "deterrence-counts" in page and "Publish a new version" not in page
    assert coordinator.post("/staff/blocking/publish/").status_code == 403
