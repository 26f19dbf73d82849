"""Triage of pages with videos: a video whose vPDQ matches a confirmed vPDQ entry is known material
and assessed without anyone viewing it; an unknown video waits in the queue; a broken one is noted."""

import pytest

from helpers import confirmed_entry
from openmnr.hotline.models import Case

from .test_triage_flow import report

# The worker commits and closes connections as in production, so these tests commit too.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def videos(shared):
    folder = shared / "vectors" / "pdq" / "video"
    return {
        "listed": folder / "doorknob-hd-no-bar.mp4",
        "listed_vpdq": folder / "doorknob-hd-no-bar.vpdq.txt",
        "other": folder / "test-padded-dimensions.mp4",
    }


@pytest.fixture
def video_bank(make_user):
    """video_bank(vpdq_text) -> a bank of confirmed CSAM holding that video's vPDQ only (baseline,
    category A), proposed and confirmed by two seniors through banks.services."""
    from openmnr.banks import services as banks
    from openmnr.banks.models import Bank

    def make(frames: str):
        admin, analyst = make_user("administrator"), make_user("analyst")
        bank = banks.save_bank(
            Bank(
                name="Confirmed videos", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]
            ),
            match_accounts=[],
            by=admin,
        )
        seniors = make_user("senior_analyst"), make_user("senior_analyst")
        return confirmed_entry(
            bank, "vpdq", frames, by=analyst, seniors=seniors, category="A", age_group="infant_toddler"
        )

    return make


def serve_video_page(site, path: str, videos: dict[str, bytes]) -> str:
    """A page showing each video with a <video src>; returns its URL."""
    for src, data in videos.items():
        site.serve(src, data, "video/mp4")
    tags = "".join(f'<video src="{src}" controls></video>' for src in videos)
    return site.serve(
        path, f"<!doctype html><html><body>{tags}</body></html>".encode(), "text/html; charset=utf-8"
    )


def test_a_known_video_is_assessed_without_reaching_the_queue(client, site, videos, video_bank, worker):
    entry = video_bank(videos["listed_vpdq"].read_text())
    page = serve_video_page(site, "/watch.html", {"/v/clip.mp4": videos["listed"].read_bytes()})
    report(client, page)
    worker()

    case = Case.objects.get()
    assert case.state == "assessed" and case.auto_assessed
    assert (case.assessment, case.category) == ("baseline", "A")
    (item,) = case.items.all()
    assert item.media_type == "video/mp4" and item.matched and item.auto_assessed and not item.error
    assert len(item.vpdq.splitlines()) == 120
    (found,) = item.match_detail
    assert (found["entry"], found["signal_type"], found["purpose"]) == (entry.pk, "vpdq", "confirmed_csam")
    assert found["query_match_percent"] >= 80 and found["entry_match_percent"] >= 80
    assert entry.value not in str(item.match_detail)  # what matched, never a hash


def test_an_unknown_video_waits_in_the_queue_and_a_broken_one_is_noted(
    client, site, videos, video_bank, worker
):
    video_bank(videos["listed_vpdq"].read_text())
    listed = videos["listed"].read_bytes()
    page = serve_video_page(
        site,
        "/mixed.html",
        {"/v/other.mp4": videos["other"].read_bytes(), "/v/cut.mp4": listed[: len(listed) // 2]},
    )
    report(client, page)
    worker()

    case = Case.objects.get()
    assert case.state == "triaged" and not case.has_known_match
    other, cut = case.items.all()
    assert not other.matched and other.vpdq and not other.error
    assert not cut.matched and cut.vpdq == "" and "the video cannot be decoded" in cut.error
    assert len(cut.sha256) == 64  # still hashed by its bytes


def test_an_analyst_proposes_a_reported_video_and_once_confirmed_it_is_known(
    client, site, videos, known_bank, staff_client, make_user, worker
):
    from openmnr.banks import services as banks
    from openmnr.banks.models import BankEntry

    bank = known_bank()
    first = serve_video_page(site, "/first.html", {"/v/a.mp4": videos["other"].read_bytes()})
    report(client, first)
    worker()
    case = Case.objects.get()
    assert case.state == "triaged"
    analyst_client, _ = staff_client("analyst")
    analyst_client.post(f"/staff/hotline/cases/{case.pk}/claim/")
    item = case.items.get()
    analyst_client.post(
        f"/staff/hotline/items/{item.pk}/classify/",
        {"assessment": "nationally_illegal", "category": "B", "age_group": "pubescent"},
    )
    analyst_client.post(f"/staff/hotline/items/{item.pk}/propose/", {"bank": bank.pk})
    proposed = BankEntry.objects.filter(bank=bank, source_ref__contains=f"item {item.pk}")
    assert sorted(proposed.values_list("signal_type", flat=True)) == ["md5", "sha256", "vpdq"]
    video_entry = proposed.get(signal_type="vpdq")
    assert video_entry.status == "pending" and video_entry.frames == item.vpdq
    for _ in range(2):
        banks.confirm_entry(video_entry, by=make_user("senior_analyst"))

    # The same video elsewhere (other bytes would do: the bank's digests of it are still pending).
    second = serve_video_page(site, "/second.html", {"/v/b.mp4": videos["other"].read_bytes()})
    report(client, second)
    worker()
    again = Case.objects.get(url=second)
    assert again.state == "assessed" and again.auto_assessed
    assert (again.assessment, again.category) == ("nationally_illegal", "B")
    assert [m["signal_type"] for m in again.items.get().match_detail] == ["vpdq"]
