"""The analyst's side: claim a case, see its media blurred and grey, reveal one item at a time after
step-up, classify each item, complete the case and propose confirmed items to a bank."""

import io
import re
import time

import pytest
from PIL import Image, ImageFilter, ImageStat

from openmnr.audit.models import AuditEvent
from openmnr.core.evidence import generate_key
from openmnr.hotline import triage
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case, Reveal

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_evidence(settings):
    settings.KEEP_EVIDENCE = True
    settings.EVIDENCE_KEY = generate_key()


def triaged_case(site, *media) -> Case:
    """A case for a page on the test site showing `media` (path, file), triaged in this process."""
    for path, file in media:
        site.image(path, file)
    page = site.page("/page.html", *[path for path, _ in media])
    case = receive_public(ReportInput(urls=[page])).urls.get().case
    triage.run(case.pk)
    case.refresh_from_db()
    return case


def claimed(staff_client, case):
    client, user = staff_client("analyst")
    client.post(f"/staff/hotline/cases/{case.pk}/claim/")
    return client, user


def edge_energy(image: Image.Image) -> float:
    return ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0]


def test_thumbnails_are_grey_and_blurred_in_their_pixels(site, corpus, keep_evidence, staff_client):
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    client, _ = claimed(staff_client, case)
    item = case.items.get()
    page = client.get(f"/staff/hotline/cases/{case.pk}/").content.decode()
    assert f'src="/staff/hotline/items/{item.pk}/thumbnail/"' in page

    response = client.get(f"/staff/hotline/items/{item.pk}/thumbnail/")
    assert response["Content-Type"] == "image/jpeg" and "no-store" in response["Cache-Control"]
    thumbnail = Image.open(io.BytesIO(response.content))
    assert thumbnail.mode == "L" and max(thumbnail.size) <= 192
    sharp = Image.open(corpus["coffee"]).convert("L")
    sharp.thumbnail(thumbnail.size)
    assert edge_energy(thumbnail) < edge_energy(sharp) / 4


def test_one_item_revealed_at_a_time_after_step_up_and_each_reveal_audited(
    site, corpus, keep_evidence, staff_client
):
    from openmnr.accounts.stepup import SESSION_KEY

    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]), ("/img/k.jpg", corpus["chelsea"]))
    client, user = claimed(staff_client, case)
    first, second = case.items.all()
    assert client.get(f"/staff/hotline/items/{first.pk}/media/").status_code == 404  # blurred until revealed

    session = client.session
    session[SESSION_KEY] = time.time() - 3600  # the second factor was entered an hour ago
    session.save()
    response = client.post(f"/staff/hotline/items/{first.pk}/reveal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/")
    assert not Reveal.objects.exists()

    session = client.session
    session[SESSION_KEY] = time.time()
    session.save()
    client.post(f"/staff/hotline/items/{first.pk}/reveal/")
    page = client.get(f"/staff/hotline/items/{first.pk}/").content.decode()
    assert f'src="/staff/hotline/items/{first.pk}/media/"' in page
    media = client.get(f"/staff/hotline/items/{first.pk}/media/")
    assert media.content == corpus["coffee"].read_bytes() and "no-store" in media["Cache-Control"]

    client.post(f"/staff/hotline/items/{second.pk}/reveal/")
    assert client.get(f"/staff/hotline/items/{first.pk}/media/").status_code == 404
    assert client.get(f"/staff/hotline/items/{second.pk}/media/").content == corpus["chelsea"].read_bytes()
    reveals = AuditEvent.objects.filter(action="hotline.media.reveal")
    assert [(e.actor, e.object_id) for e in reveals] == [
        (user.username, str(first.pk)),
        (user.username, str(second.pk)),
    ]

    client.post(f"/staff/hotline/items/{second.pk}/hide/")
    assert client.get(f"/staff/hotline/items/{second.pk}/media/").status_code == 404


def test_only_the_holder_sees_media_and_known_material_is_never_shown(
    site, corpus, keep_evidence, staff_client, known_bank, make_user
):
    from django.test import Client

    from helpers import sign_in_client

    known_bank(corpus["astronaut"])
    case = triaged_case(site, ("/img/a.jpg", corpus["astronaut"]), ("/img/c.jpg", corpus["coffee"]))
    known, unknown = case.items.all()
    client, _ = claimed(staff_client, case)
    other = sign_in_client(Client(), make_user("analyst"))  # a second analyst on the same case

    response = other.post(f"/staff/hotline/items/{unknown.pk}/reveal/", follow=True)
    assert "claim the case first" in response.content.decode()
    assert other.get(f"/staff/hotline/items/{unknown.pk}/media/").status_code == 404
    assert not Reveal.objects.exists()
    response = client.post(f"/staff/hotline/items/{known.pk}/reveal/", follow=True)
    assert "known material and is never shown" in response.content.decode()
    assert not Reveal.objects.exists()


def test_video_never_autoplays_and_starts_muted(site, shared, keep_evidence, staff_client):
    video = shared / "vectors" / "pdq" / "video" / "test-padded-dimensions.mp4"
    site.serve("/v/clip.mp4", video.read_bytes(), "video/mp4")
    site.serve("/page.html", b'<html><body><a href="/v/clip.mp4">clip</a></body></html>', "text/html")
    case = receive_public(ReportInput(urls=[site.url("/page.html")])).urls.get().case
    triage.run(case.pk)
    item = case.items.get()
    assert item.media_type == "video/mp4" and len(item.sha256) == 64 and item.pdq == ""

    client, _ = claimed(staff_client, case)
    client.post(f"/staff/hotline/items/{item.pk}/reveal/")
    page = client.get(f"/staff/hotline/items/{item.pk}/").content.decode()
    tag = re.search(r"<video[^>]*>", page).group(0)
    assert " muted" in tag and "autoplay" not in tag and " controls" in tag


def test_the_exposure_timer_counts_reveal_time_and_warns_past_the_limit(
    site, corpus, keep_evidence, staff_client, settings
):
    from datetime import datetime, timedelta
    from types import SimpleNamespace
    from unittest import mock

    from django.utils import timezone

    from openmnr.hotline import viewer

    settings.HOTLINE_EXPOSURE_MINUTES_PER_DAY = 1
    settings.HOTLINE_REVEAL_SECONDS = 300
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    client, user = claimed(staff_client, case)
    item = case.items.get()
    # The viewer's clock, at noon so that the test never straddles midnight.
    clock = [
        timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time())) + timedelta(hours=12)
    ]
    fake = SimpleNamespace(now=lambda: clock[0], localdate=timezone.localdate, make_aware=timezone.make_aware)
    with mock.patch.object(viewer, "timezone", fake):
        assert "0 of 1 minutes" in client.get("/staff/hotline/").content.decode()
        client.post(f"/staff/hotline/items/{item.pk}/reveal/")
        clock[0] += timedelta(seconds=90)
        page = client.get("/staff/hotline/").content.decode()
        assert "1 of 1 minutes" in page and "reached your daily limit" in page and 'role="alert"' in page

        client.post(f"/staff/hotline/items/{item.pk}/hide/")
        clock[0] += timedelta(hours=1)
        assert viewer.exposure_today(user) == timedelta(seconds=90)  # hidden: the hour after does not count
        settings.HOTLINE_REVEAL_SECONDS = 30
        assert viewer.exposure_today(user) == timedelta(seconds=30)  # a reveal counts at most this long


def test_classify_complete_and_propose(site, corpus, known_bank, staff_client):
    from openmnr.banks.models import BankEntry

    bank = known_bank(corpus["astronaut"])
    case = triaged_case(site, ("/img/a.jpg", corpus["astronaut"]), ("/img/c.jpg", corpus["coffee"]))
    client, user = claimed(staff_client, case)
    known, unknown = case.items.all()

    response = client.post(f"/staff/hotline/cases/{case.pk}/complete/", follow=True)
    assert "1 media item(s) are not classified yet" in response.content.decode()
    response = client.post(
        f"/staff/hotline/items/{unknown.pk}/classify/", {"assessment": "nationally_illegal"}, follow=True
    )
    assert "needs a category" in response.content.decode()
    client.post(
        f"/staff/hotline/items/{unknown.pk}/classify/",
        {"assessment": "nationally_illegal", "category": "B", "age_group": "pubescent"},
    )
    unknown.refresh_from_db()
    assert (unknown.assessment, unknown.category, unknown.age_group, unknown.assessed_by) == (
        "nationally_illegal",
        "B",
        "pubescent",
        user,
    )

    client.post(f"/staff/hotline/cases/{case.pk}/complete/")
    case.refresh_from_db()
    # The outcome follows from the items: the known baseline item outranks the nationally illegal one.
    assert (case.state, case.assessment, case.category, case.assessed_by) == (
        "assessed",
        "baseline",
        "A",
        user,
    )
    assert case.claimed_by is None

    client.post(f"/staff/hotline/items/{unknown.pk}/propose/", {"bank": bank.pk})
    proposed = BankEntry.objects.filter(bank=bank, source_ref__contains=f"item {unknown.pk}")
    assert sorted(proposed.values_list("signal_type", flat=True)) == ["md5", "pdq", "sha256"]
    assert set(proposed.values_list("status", flat=True)) == {"pending"}  # four eyes still to come
    assert set(proposed.values_list("classification", flat=True)) == {"nationally_illegal"}
    response = client.post(f"/staff/hotline/items/{known.pk}/propose/", {"bank": bank.pk}, follow=True)
    assert "only media an analyst classified as illegal" in response.content.decode()


def test_a_case_found_not_illegal_is_closed(site, corpus, staff_client):
    case = triaged_case(site, ("/img/c.jpg", corpus["coffee"]))
    client, _ = claimed(staff_client, case)
    client.post(f"/staff/hotline/items/{case.items.get().pk}/classify/", {"assessment": "not_illegal"})
    client.post(f"/staff/hotline/cases/{case.pk}/complete/")
    case.refresh_from_db()
    assert case.state == "closed" and case.assessment == "not_illegal"
    assert [t.to_state for t in case.transitions.all()] == ["triaged", "assessed", "closed"]


def test_a_page_without_media_takes_its_outcome_directly(site, staff_client):
    site.serve("/chat.html", b"<html><body><p>Only words here.</p></body></html>", "text/html")
    case = receive_public(ReportInput(urls=[site.url("/chat.html")], content_kind="grooming")).urls.get().case
    triage.run(case.pk)
    client, _ = claimed(staff_client, case)
    response = client.post(f"/staff/hotline/cases/{case.pk}/complete/", follow=True)
    assert "this page has no media" in response.content.decode()
    client.post(f"/staff/hotline/cases/{case.pk}/complete/", {"assessment": "not_assessable"})
    case.refresh_from_db()
    assert case.state == "closed" and case.assessment == "not_assessable"
