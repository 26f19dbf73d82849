"""Availability monitoring through the safe fetcher against a site on 127.0.0.1: removal is
confirmed after three misses at least three minutes apart (on a clock the test controls), a
page whose media are gone counts as a miss, content that comes back reopens the case, and the
hotline case closes when the watch ends. The tick is idempotent and leaves leased cases alone."""

import dataclasses
import threading
import time
from datetime import timedelta

import pytest
from django.utils.timezone import now as timezone_now

from openmnr.core.hosting.dns import StaticResolver
from openmnr.core.takedown.schedule import Check
from openmnr.hotline.models import Case
from openmnr.takedown import services
from openmnr.takedown.availability import check_case
from openmnr.takedown.models import EventKind, TakedownCase

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(site, photos, reported_and_assessed, tools, clock, make_user, mailoutbox):
    """A gallery page with one photo, assessed, routed by an analyst to the site's abuse address
    and noticed once. Returns (case, tools, the time of the first notice)."""
    site.serve("/photo.jpg", photos["photo"])
    case = reported_and_assessed(site.page("/gallery", "/photo.jpg"))
    assert case.items.get().sha256  # triage hashed the photo
    real = tools()
    services.tick(clock.now, tools=real)
    takedown = TakedownCase.objects.get(pk=case.pk)
    assert takedown.status == "analyst"  # 127.0.0.1: no network owner, no abuse contact
    services.decide(case.pk, make_user("analyst"), emails=["abuse@site.test"])
    services.tick(clock.advance(minutes=1), tools=real)
    assert [m.to for m in mailoutbox] == [["abuse@site.test"]]
    return case, real, clock.now


def _checks(case) -> list[str]:
    return list(
        TakedownCase.objects.get(pk=case.pk)
        .events.filter(kind=EventKind.CHECK)
        .values_list("detail__outcome", flat=True)
    )


def test_removal_is_confirmed_after_three_misses_at_least_three_minutes_apart(watched, site, clock):
    case, tools, noticed_at = watched
    services.tick(clock.advance(minutes=30), tools=tools)  # checks speed up after a notice
    assert _checks(case) == ["online"]

    site.forget("/photo.jpg")  # the host deleted the photo; the page stays
    services.tick(clock.advance(minutes=30), tools=tools)
    first_miss = clock.now
    services.tick(clock.advance(minutes=2), tools=tools)  # too soon for the next check
    assert _checks(case) == ["online", "no_match"]
    services.tick(clock.advance(minutes=1), tools=tools)
    takedown = TakedownCase.objects.get(pk=case.pk)
    assert takedown.status != "removed" and takedown.removed_at is None

    services.tick(clock.advance(minutes=3), tools=tools)
    takedown.refresh_from_db()
    assert _checks(case) == ["online", "no_match", "no_match", "no_match"]
    assert takedown.status == "removed"
    assert takedown.removed_at == first_miss and takedown.confirmed_at == clock.now
    assert takedown.first_notice_at == noticed_at
    assert takedown.events.filter(kind=EventKind.REMOVED).count() == 1


def test_content_back_online_reopens_the_case_and_the_watch_end_closes_it(
    watched, site, photos, clock, mailoutbox
):
    case, tools, _ = watched
    site.serve("/gallery", b"gone", "text/html", status=404)
    for minutes in (30, 3, 3):
        services.tick(clock.advance(minutes=minutes), tools=tools)
    takedown = TakedownCase.objects.get(pk=case.pk)
    assert takedown.status == "removed"
    sent = len(mailoutbox)

    services.tick(clock.advance(hours=23), tools=tools)
    assert len(mailoutbox) == sent  # no reminder once removed

    site.page("/gallery", "/photo.jpg")  # re-uploaded
    services.tick(clock.advance(hours=1), tools=tools)
    takedown.refresh_from_db()
    assert takedown.status == "notices" and takedown.removed_at is None
    assert takedown.events.filter(kind=EventKind.REOPENED).exists()
    assert len(mailoutbox) == sent + 1 and mailoutbox[-1].subject.startswith("Notice:")  # at once, from one

    site.serve("/gallery", b"gone", "text/html", status=410)
    for minutes in (30, 3, 3):
        services.tick(clock.advance(minutes=minutes), tools=tools)
    takedown.refresh_from_db()
    assert takedown.status == "removed" and Case.objects.get(pk=case.pk).state == "actioned"

    services.tick(clock.advance(days=31), tools=tools)
    takedown.refresh_from_db()
    assert takedown.status == "closed" and takedown.next_due_at is None
    assert Case.objects.get(pk=case.pk).state == "closed"


def test_each_kind_of_answer(watched, site, photos):
    case, _tools, _ = watched
    resolver = StaticResolver({})
    assert check_case(case, resolver).outcome == Check.ONLINE

    site.serve("/photo.jpg", photos["reencoded"])  # the same picture, re-encoded: still the content
    assert check_case(case, resolver).outcome == Check.ONLINE
    site.serve("/photo.jpg", photos["other"])  # another picture in its place
    assert check_case(case, resolver).outcome == Check.NO_MATCH
    site.serve("/photo.jpg", photos["photo"])

    for status, outcome in (
        (404, Check.GONE),
        (410, Check.GONE),
        (503, Check.INCONCLUSIVE),
        (403, Check.INCONCLUSIVE),
    ):
        site.serve("/gallery", b"", "text/html", status=status)
        result = check_case(case, resolver)
        assert (result.outcome, result.http_status) == (outcome, status)

    case.url = "http://gone.example.pt/gallery"  # a name the resolver no longer knows
    assert check_case(case, resolver).outcome == Check.DNS_FAILURE


def test_the_tick_is_idempotent_and_skips_cases_another_tick_holds(watched, clock):
    case, tools, _ = watched
    first = services.tick(clock.advance(minutes=30), tools=tools)
    again = services.tick(clock.now, tools=tools)
    assert first.processed == 1 and again.processed == 0
    assert _checks(case) == ["online"]

    from django.utils import timezone

    TakedownCase.objects.filter(pk=case.pk).update(
        lease_until=timezone.now() + timedelta(minutes=5), lease_token="x"
    )
    assert services.tick(clock.advance(minutes=30), tools=tools).processed == 0
    TakedownCase.objects.filter(pk=case.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.tick(clock.now, tools=tools).processed == 1  # a lease that ran out is taken over


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_work_each_case_once(assessed_case, tools, always):
    """Two workers running the tick at the same moment: each case is taken by one of them (a lease,
    taken with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL), so one notice goes out, not two."""
    from django.db import connection

    from openmnr.core.hosting.cdn import CdnCatalog
    from openmnr.core.hosting.trace import Tracer
    from openmnr.takedown.delivery import Delivery

    for number in range(3):
        assessed_case(f"https://203.0.113.{number + 1}/page", known=True)
    sent = []

    def slow_delivery(message):
        time.sleep(0.1)  # widen the window in which the other worker could take the same case
        sent.append(message.payload["reference"])
        return Delivery(True)

    class HomeHost:
        def trace(self, hostname):
            trace = Tracer(StaticResolver({}), CdnCatalog.load()).trace(hostname)

            return dataclasses.replace(
                trace, asn=64500, org="Example", country="PT", abuse_contacts=("a@host.test",)
            )

    shared = tools(tracer=HomeHost(), check=always("online"), deliver=slow_delivery)
    now = timezone_now()
    results = []

    def work():
        try:
            results.append(services.tick(now, tools=shared))
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(sent) == sorted(set(sent)) and len(sent) == 3
    assert sum(result.processed for result in results) == 3
    assert TakedownCase.objects.filter(first_notice_at__isnull=False).count() == 3


@pytest.mark.parametrize("dihedral", [True, False])
def test_a_mirrored_copy_put_back_is_still_the_content_unless_the_setting_is_off(
    watched, site, photos, settings, dihedral
):
    import io

    from PIL import Image

    settings.MATCH_DIHEDRAL = dihedral
    case, _tools, _ = watched
    out = io.BytesIO()
    Image.open(io.BytesIO(photos["photo"])).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(out, "JPEG")
    site.serve("/photo.jpg", out.getvalue())  # the site mirrored the picture instead of removing it
    expected = Check.ONLINE if dihedral else Check.NO_MATCH
    assert check_case(case, StaticResolver({})).outcome == expected
