"""Routing uses the network: takedown's forward of a case hosted in a partner's country creates the
ICCAM export or the federation forward instead of an e-mail; our actions (a notice) reach ICCAM as
they happen; the statistics show forwarded cases and "removed through the network" in their own row.
Hosting traces come from a fixed tracer here; tests/takedown covers tracing itself."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.exchange import federation as protocol
from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown.schedule import Check
from openmnr.exchange import network, sync
from openmnr.exchange.models import NetworkItem, OutboxRow, Partner
from openmnr.takedown import availability, config, services, stats
from openmnr.takedown.models import DirectoryEntry, TakedownCase

pytestmark = pytest.mark.django_db


class FixedTracer:
    def __init__(self, country: str, ip: str = "192.0.2.10", org: str = "Other Hosting GmbH"):
        self.country, self.ip, self.org = country, ip, org

    def trace(self, hostname: str) -> HostingTrace:
        return HostingTrace(
            hostname=hostname,
            cname_chain=(),
            ips=(self.ip,),
            asn=64501,
            org=self.org,
            country=self.country,
            cdn=None,
            abuse_contacts=("abuse@host.test",),
            registrar=None,
            registrar_abuse_contacts=(),
            traced_at=datetime.now(UTC),
            problems=(),
        )


def tools(country: str, **kwargs) -> config.Tools:
    from openmnr.takedown import delivery

    return config.Tools(
        tracer=FixedTracer(country, **kwargs),
        check=lambda case: availability.CheckResult(Check.ONLINE, 200),
        deliver=delivery.deliver,
    )


@pytest.fixture
def directory(db):
    DirectoryEntry.objects.create(
        kind="partner", name="Hotline Deutschland", country="DE", emails="reports@de.test"
    )
    DirectoryEntry.objects.create(
        kind="law_enforcement", name="National cybercrime unit", country="PT", emails="referrals@police.test"
    )


def timeline(case_id: int) -> list[str]:
    return [event.text for event in TakedownCase.objects.get(pk=case_id).events.all()]


def test_a_case_hosted_in_a_member_country_goes_to_iccam_not_by_email(
    fake, directory, public_case, assess, mailoutbox, settings
):
    settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = 0
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    services.tick(tools=tools("DE"))

    assert "forwarded through ICCAM" in timeline(case_id)
    assert not mailoutbox  # no e-mail to the German hotline: ICCAM carries it
    takedown = TakedownCase.objects.get(pk=case_id)
    assert takedown.status == "forwarded" and takedown.first_notice_at is not None
    from openmnr.hotline.services import case_summary

    assert case_summary(case_id).state == "actioned"
    services.tick(now=datetime.now(UTC) + timedelta(minutes=5), tools=tools("DE"))
    assert OutboxRow.objects.filter(kind="report").count() == 1  # forwarded once

    sync.run_cycle()
    (post,) = fake.calls("POST", r"/reports$")
    url = post.body["urls"][0]
    assert (url["hostingCountryCode"], url["hostingIpAddress"], url["hostingIsp"]) == (
        "DE",
        "192.0.2.10",
        "Other Hosting GmbH",
    )


def test_a_federation_partner_for_the_country_comes_first(
    directory, public_case, assess, mailoutbox, settings
):
    settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = 0
    Partner.objects.create(
        name="Hotline of Examplestan",
        country="DE",
        base_url="http://127.0.0.1:9/",
        public_key=protocol.public_key_pem(Ed25519PrivateKey.generate().public_key()),
    )
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    services.tick(tools=tools("DE"))
    assert "forwarded through OpenMNR federation to Hotline of Examplestan" in timeline(case_id)
    assert not mailoutbox
    row = OutboxRow.objects.get(channel="federation")
    assert row.kind == "case.forward" and row.payload["body"]["hosting"]["country"] == "DE"


def test_without_a_network_the_forward_is_an_email_as_before(
    directory, public_case, assess, mailoutbox, settings
):
    settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = 0
    case_id = public_case("https://host.example/page")
    assess(case_id, "baseline", age_group="prepubescent", category="A")
    services.tick(tools=tools("DE"))
    assert [m.to for m in mailoutbox] == [["reports@de.test"]]
    assert not OutboxRow.objects.exists()


def test_our_notice_on_an_imported_item_reaches_iccam_as_it_happens(
    fake, directory, assess, mailoutbox, settings
):
    settings.TAKEDOWN_FIRST_NOTICE_KNOWN_MINUTES = 0
    settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = 0
    fake.add_report(41, ["https://host.example/page"])
    sync.run_cycle()
    item = NetworkItem.objects.get()
    assess(item.case_id, "baseline", age_group="prepubescent", category="A")
    services.tick(tools=tools("PT", ip="203.0.113.7", org="Example Hosting Lda"))
    assert ["abuse@host.test"] in [m.to for m in mailoutbox]  # the notice to the host, by e-mail

    sync.run_cycle()
    assert [a["actionType"] for a in fake.contents[item.content_id]["actions"]] == [2]  # notice to the host

    # Removal as takedown's checks record it (the timeline row they write; tests/takedown runs the checks).
    from openmnr.takedown.models import Event

    Event.objects.create(takedown_id=item.case_id, at=datetime.now(UTC), kind="removed", text="gone")
    sync.run_cycle()
    sync.run_cycle()
    assert [a["actionType"] for a in fake.contents[item.content_id]["actions"]] == [2, 3]
    assert len(fake.calls("POST", "actions")) == 2  # once each


def test_the_statistics_show_forwarded_cases_and_removed_through_the_network(
    directory, public_case, assess, settings, staff_client
):
    settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES = 0
    Partner.objects.create(
        name="Hotline of Examplestan",
        country="DE",
        base_url="http://127.0.0.1:9/",
        public_key=protocol.public_key_pem(Ed25519PrivateKey.generate().public_key()),
    )
    forwarded = public_case("https://host.example/a")
    assess(forwarded, "baseline", age_group="prepubescent", category="A")
    at_home = public_case("https://host.example/b")
    assess(at_home, "baseline", age_group="prepubescent", category="A")
    services.tick(tools=tools("DE"))
    TakedownCase.objects.filter(pk=at_home).update(status="notices")
    from openmnr.takedown.models import Event

    Event.objects.filter(takedown_id=at_home, kind="forwarded").delete()  # as if noticed here

    from openmnr.hotline.models import Case

    opened = datetime.now(UTC) - timedelta(days=1)
    Case.objects.filter(pk__in=[forwarded, at_home]).update(opened_at=opened)  # reported yesterday
    network.record_event(
        forwarded,
        "federation",
        partner="Hotline of Examplestan",
        action="removed",
        at=opened + timedelta(hours=5),
        text="Hotline of Examplestan: Removed",
        dedupe_key="test-removed",
    )
    routes = stats.by_route()
    through = routes["removed through the network"]
    assert (through.cases, through.removed) == (1, 1)
    assert through.report_to_removal_median == timedelta(hours=5)
    assert routes["notices from this hotline"].removed == 0

    client, _ = staff_client("national_coordinator")
    page = client.get("/staff/takedown/statistics/").content.decode()
    assert "Per route" in page and "removed through the network" in page
    csv = client.get("/staff/takedown/statistics/summary.csv").content.decode()
    assert "route,removed through the network,1,1,5.0" in csv


def test_a_referral_and_a_move_abroad_reach_iccam_as_actions(fake, assess):
    """Takedown's timeline rows for a referral and a new host in another country (as its referral
    workflow and its trace write them) become a referred-to-police action and a move in ICCAM."""
    from openmnr.takedown.models import Event, Trace

    fake.add_report(41, ["https://host.example/page"])
    sync.run_cycle()
    item = NetworkItem.objects.get()
    assess(item.case_id, "baseline", age_group="prepubescent", category="A")
    services.open_assessed(datetime.now(UTC))
    now = datetime.now(UTC)
    Event.objects.create(takedown_id=item.case_id, at=now, kind="referral", text="referral sent")
    moved = FixedTracer("NL", ip="198.51.100.20").trace("host.example")
    Trace.objects.create(takedown_id=item.case_id, traced_at=now, data=moved.to_dict(), host_changed=True)
    Event.objects.create(takedown_id=item.case_id, at=now, kind="host_changed", text="host changed")
    # A new host at home is no move for the network.
    Event.objects.create(takedown_id=item.case_id, at=now, kind="traced", text="traced")
    sync.run_cycle()
    content = fake.contents[item.content_id]
    assert [a["actionType"] for a in content["actions"]] == [1]
    assert (
        content["url"]["hostingCountryCode"] == "NL" and content["url"]["hostingIpAddress"] == "198.51.100.20"
    )
    assert content["assignedCountryCode"] == "NL"
