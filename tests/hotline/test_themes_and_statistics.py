"""Themes and reports without a web address (sexual extortion, grooming), and the statistics
hotlines publish, counted from the records."""

import csv
import io
import json
import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from helpers import sign_in_client
from openmnr.accounts import apikeys
from openmnr.audit.models import AuditEvent
from openmnr.hotline import triage
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case, Submission

pytestmark = pytest.mark.django_db


def post_report(client, **fields):
    data = {"urls": "", "found_where": "chat", "content_kind": "sexual_extortion", **fields}
    return client.post("/report/", urlencode(data), content_type="application/x-www-form-urlencoded")


def test_a_sexual_extortion_report_without_an_address_goes_to_its_own_queue_with_help(client, make_user):
    response = post_report(
        client, description="someone threatens to share my photos", platform="ChatApp", username="bad_guy_99"
    )
    assert response.status_code == 200
    page = response.content.decode()
    code = re.search(r'id="tracking-code">([0-9A-Z-]+)<', page).group(1)
    assert 'id="report-help"' in page and "do not pay" in page and "116 111" in page  # configured help
    submission = Submission.objects.get()
    assert (submission.content_kind, submission.platform, submission.username) == (
        "sexual_extortion",
        "ChatApp",
        "bad_guy_99",
    )
    assert not submission.urls.exists() and not Case.objects.exists()  # nothing to fetch
    event = AuditEvent.objects.get(action="hotline.report.receive")
    assert not event.client_address  # no IP stored, as for every public report

    analyst = sign_in_client(Client(), make_user("analyst"))
    queue = analyst.get("/staff/hotline/without-address/").content.decode()
    assert "someone threatens to share my photos" in queue and "bad_guy_99" in queue
    assert "(1 waiting)" in analyst.get("/staff/hotline/").content.decode()
    analyst.post(f"/staff/hotline/without-address/{submission.pk}/handled/")
    assert (
        "No report without an address is waiting"
        in analyst.get("/staff/hotline/without-address/").content.decode()
    )
    status = client.post(
        "/report/status/", urlencode({"code": code}), content_type="application/x-www-form-urlencoded"
    )
    assert 'id="report-status">Closed<' in status.content.decode()


def test_without_an_address_a_description_is_needed_and_only_some_themes_may_omit_it(client):
    response = post_report(client, description="")
    assert response.status_code == 400 and "tell us what happened" in response.content.decode()
    response = post_report(client, content_kind="csam", description="I saw it somewhere")
    assert response.status_code == 400
    assert "Only reports of sexual extortion or grooming may come without one" in response.content.decode()
    assert not Submission.objects.exists()  # nothing written


def test_the_partner_api_takes_a_theme_and_a_report_without_an_address(client, make_user):
    owner = make_user("partner_hotline")
    _key, key = apikeys.create_api_key(owner=owner, name="Partner", scopes=["hotline.submit_report"])

    def post(body, idem):
        return client.post(
            "/api/v1/reports",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
        )

    ok = post(
        {
            "content_kind": "grooming",
            "description": "adult asks a 12-year-old to move to a private chat",
            "platform": "GameX",
        },
        "g-1",
    )
    assert ok.status_code == 202
    assert Submission.objects.get(pk=ok.json()["id"]).platform == "GameX"
    refused = post({"content_kind": "ai_generated", "description": "no address"}, "g-2")
    assert refused.status_code == 400 and "web address" in refused.json()["detail"]


def test_statistics_count_the_records_of_the_year(site, shared, make_user, known_bank):
    from django.utils import timezone

    from openmnr.hotline.models import MediaItem

    corpus = shared / "corpus" / "natural"
    astronaut, coffee = corpus / "astronaut-00.jpg", corpus / "coffee-00.jpg"
    known_bank(
        astronaut, entry={"age_group": "prepubescent", "gender": "female", "flags": ["self_generated"]}
    )
    site.image("/a.jpg", astronaut)
    site.image("/c.jpg", coffee)
    known = receive_public(ReportInput(urls=[site.page("/k.html", "/a.jpg")])).urls.get().case
    triage.run(known.pk)
    other = receive_public(ReportInput(urls=[site.page("/o.html", "/c.jpg")])).urls.get().case
    triage.run(other.pk)
    receive_public(ReportInput(urls=[], content_kind="grooming", description="chat"))
    analyst_user = make_user("analyst")
    analyst = sign_in_client(Client(), analyst_user)
    analyst.post(f"/staff/hotline/cases/{other.pk}/claim/")
    analyst.post(
        f"/staff/hotline/cases/{other.pk}/site/", {"site_type": "forum", "commerciality": "non_commercial"}
    )
    analyst.post(
        f"/staff/hotline/items/{other.items.get().pk}/classify/",
        {
            "assessment": "nationally_illegal",
            "category": "C",
            "age_group": "pubescent",
            "gender": "male",
            "content_type": "image",
            "flags": ["ai_generated"],
        },
    )
    analyst.post(f"/staff/hotline/cases/{other.pk}/complete/")
    # One item from before flags were recorded: counted as not recorded.
    old = MediaItem.objects.create(
        case=other,
        position=9,
        url="https://x.test/old.jpg",
        url_sha256="0" * 64,
        assessment="baseline",
        category="A",
        age_group="infant_toddler",
        assessed_at=timezone.now(),
    )
    assert old.flags is None

    year = timezone.now().year
    page = analyst.get(f"/staff/hotline/statistics/?year={year}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "style=" not in html and "<script" not in html.split("</header>")[-1]
    response = analyst.get(f"/staff/hotline/statistics/?year={year}&format=csv")
    rows = {
        (r["table"], r["code"]): int(r["count"])
        for r in csv.DictReader(io.StringIO(response.content.decode()))
    }
    assert rows[("reports", "csam")] == 2 and rows[("reports", "grooming")] == 1
    assert rows[("cases", "actioned")] == 2
    assert rows[("assessment", "baseline")] == 2 and rows[("assessment", "nationally_illegal")] == 1
    assert rows[("age_group", "prepubescent")] == 1 and rows[("age_group", "pubescent")] == 1
    assert rows[("age_group", "infant_toddler")] == 1
    assert rows[("gender", "female")] == 1 and rows[("gender", "male")] == 1 and rows[("gender", "")] == 1
    assert rows[("flags", "recorded")] == 2 and rows[("flags", "not_recorded")] == 1
    assert rows[("flags", "virtual")] == 1 and rows[("flags", "ai_generated")] == 1
    assert rows[("flags", "self_generated")] == 1
    assert rows[("site_type", "forum")] == 1 and rows[("site_type", "")] == 1
    assert rows[("category", "C")] == 1 and rows[("category", "A")] == 2
    last_year = analyst.get(f"/staff/hotline/statistics/?year={year - 1}&format=csv").content.decode()
    assert last_year.strip().count("\n") == 0 or ",reports," not in last_year
