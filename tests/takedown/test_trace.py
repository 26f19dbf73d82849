"""Hosting trace in the app: a case assessed illegal is traced through DNS, the .mmdb databases and
RDAP (all on 127.0.0.1), the trace is stored and shown, it refreshes every 12 hours, and a change
of host is recorded and re-routes the case."""

import pytest

from openmnr.hotline.models import Case
from openmnr.takedown import services
from openmnr.takedown.models import EventKind, Notice, TakedownCase

pytestmark = pytest.mark.django_db

URL = "https://www.example.pt/gallery/1"


@pytest.fixture
def hosted_in_portugal(dns_zone, rdap, mmdb, directory):
    dns_zone.update({("www.example.pt", "CNAME"): ["example.pt."], ("example.pt", "A"): ["203.0.113.7"]})
    rdap.network("203.0.113.7", "abuse@hosting.test")
    rdap.network("192.0.2.9", "abuse@other-hosting.test")
    rdap.domain("example.pt", "Example Registrar", "abuse@registrar.test")
    directory()
    return dns_zone


def test_an_assessed_case_is_traced_routed_and_noticed(
    hosted_in_portugal, assessed_case, tools, always, clock, mailoutbox
):
    case = assessed_case(URL, known=True)

    result = services.tick(clock.now, tools=tools(check=always("online")))

    assert result.opened == 1 and result.processed == 1
    takedown = TakedownCase.objects.get(pk=case.pk)
    trace = takedown.traces.get().data
    assert trace["cname_chain"] == ["example.pt"] and trace["ips"] == ["203.0.113.7"]
    assert (trace["asn"], trace["org"], trace["country"]) == (64500, "Example Hosting Lda", "PT")
    assert trace["abuse_contacts"] == ["abuse@hosting.test"]
    assert (trace["registrar"], trace["registrar_abuse_contacts"]) == (
        "Example Registrar",
        ["abuse@registrar.test"],
    )
    assert (takedown.hosting_country, takedown.asn) == ("PT", 64500)
    # Hosted at home: notice to the host, referral to the police; known material goes out at once.
    assert [action["kind"] for action in takedown.actions] == ["notice_host", "refer_law_enforcement"]
    assert takedown.status == "notices" and takedown.referral_wanted
    assert [message.to for message in mailoutbox] == [["abuse@hosting.test"]]
    assert Case.objects.get(pk=case.pk).state == "actioned"


def test_the_trace_shows_on_the_case_pages(
    hosted_in_portugal, assessed_case, tools, always, clock, staff_client
):
    case = assessed_case(URL, known=True)
    services.tick(clock.now, tools=tools(check=always("online")))
    client, _ = staff_client("analyst")

    page = client.get(f"/staff/takedown/cases/{case.pk}/").content.decode()
    assert "AS64500 Example Hosting Lda" in page and "abuse@hosting.test" in page
    assert "Example Registrar" in page and 'id="timeline"' in page
    hotline_page = client.get(f"/staff/hotline/cases/{case.pk}/").content.decode()
    assert "AS64500 Example Hosting Lda" in hotline_page


def test_traces_refresh_every_12_hours_and_a_new_host_reroutes_the_case(
    hosted_in_portugal, assessed_case, tools, always, clock, mailoutbox
):
    case = assessed_case(URL, known=True)
    checks = tools(check=always("online"))
    services.tick(clock.now, tools=checks)
    takedown = TakedownCase.objects.get(pk=case.pk)

    services.tick(clock.advance(hours=11), tools=checks)
    assert takedown.traces.count() == 1  # not due yet

    services.tick(clock.advance(hours=1), tools=checks)
    assert takedown.traces.count() == 2 and not takedown.traces.first().host_changed

    # The site moves to a network in Germany: a new host, so the case goes to the German partner.
    hosted_in_portugal[("example.pt", "A")] = ["192.0.2.9"]
    services.tick(clock.advance(hours=12), tools=checks)

    takedown.refresh_from_db()
    latest = takedown.traces.first()
    assert latest.host_changed and {"asn", "country", "ips"} <= set(latest.changed_fields)
    assert takedown.status == "forwarded"
    assert takedown.hosting_country == "DE"
    assert [action["kind"] for action in takedown.actions] == ["forward_partner"]
    kinds = list(takedown.events.values_list("kind", flat=True))
    assert EventKind.HOST_CHANGED in kinds
    assert (
        "moved: the content is hosted elsewhere, AS64500 Example Hosting Lda in PT → AS64501 Other Hosting GmbH in DE"
        in list(takedown.events.values_list("text", flat=True))
    )
    assert takedown.moved_at is not None  # counted as a move in the statistics
    forward = Notice.objects.get(takedown=takedown, kind="forward_partner")
    assert forward.recipient == "Hotline Deutschland"
    assert mailoutbox[-1].to == ["reports@hotline.test"]
    assert "Other Hosting GmbH (AS64501)" in mailoutbox[-1].body
