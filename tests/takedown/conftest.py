"""Fixtures for the takedown tests. Everything the app talks to runs here, on 127.0.0.1: a web site
whose pages can change or vanish, a DNS server, an RDAP server, an SMTP server (aiosmtpd) and a
webhook receiver; the .mmdb databases are built in tmp_path with mmdb-writer."""

from datetime import timedelta

import pytest

from helpers import LocalServer, Rdap, local_dns_server, mmdb_files, smtp_server

# Documentation ranges (RFC 5737, RFC 3849) stand in for real hosts.
NETWORKS = {
    "203.0.113.0/24": (64500, "Example Hosting Lda", "PT"),
    "192.0.2.0/24": (64501, "Other Hosting GmbH", "DE"),
    "198.51.100.0/24": (13335, "CLOUDFLARENET", "US"),
}


@pytest.fixture(autouse=True)
def _takedown_settings(settings, tmp_path):
    """Each test: its own folders, servers on 127.0.0.1 reachable, Portugal as the home country, and
    no trace source configured unless the test sets one."""
    settings.FETCH_ALLOW_PRIVATE = ["127.0.0.1"]
    settings.TAKEDOWN_WEBHOOK_ALLOW_HTTP = ["127.0.0.1"]
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.KEEP_EVIDENCE = False
    settings.EVIDENCE_KEY = ""
    settings.REFERRAL_DIR = str(tmp_path / "referrals")
    settings.REFERRAL_SIGNING_KEY = str(tmp_path / "keys" / "signing.pem")
    settings.REFERRAL_INCLUDE_EVIDENCE = False
    settings.TAKEDOWN_HOME_COUNTRY = "PT"
    settings.TAKEDOWN_PUBLIC_URL = "http://testserver"
    settings.TAKEDOWN_ASN_DB = ""
    settings.TAKEDOWN_COUNTRY_DB = ""
    settings.TAKEDOWN_RDAP_BASE_URL = ""
    settings.TAKEDOWN_RDAP_BOOTSTRAP_DIR = ""
    settings.TAKEDOWN_CDN_FILE = ""
    settings.TAKEDOWN_OPERATOR_NAME = "Test Hotline"
    settings.TAKEDOWN_FROM_EMAIL = "notices@hotline.test"


@pytest.fixture
def assessed_case(db):
    """assessed_case(url, known=False) -> a hotline case assessed as baseline CSAM, made through the
    hotline's own services (a public report, then the state machine's transitions)."""
    from django.utils import timezone

    from openmnr.hotline import cases, intake
    from openmnr.hotline.states import State

    def make(url: str, *, known: bool = False):
        submission = intake.receive_public(intake.ReportInput(urls=[url]))
        case = submission.urls.get().case
        cases.transition(case.pk, State.TRIAGED, reason="test triage", has_known_match=known)
        return cases.transition(
            case.pk,
            State.ASSESSED,
            reason="test assessment",
            assessment="baseline",
            category="A",
            age_group="prepubescent",
            auto_assessed=known,
            assessed_at=timezone.now(),
        )

    return make


@pytest.fixture
def directory(db):
    """directory() -> the usual entries: national law enforcement, a partner in Germany, and an
    international fallback."""
    from openmnr.takedown.models import DirectoryEntry

    def make():
        return {
            "police": DirectoryEntry.objects.create(
                kind="law_enforcement",
                name="National cybercrime unit",
                country="PT",
                emails="referrals@police.test",
            ),
            "partner": DirectoryEntry.objects.create(
                kind="partner", name="Hotline Deutschland", country="DE", emails="reports@hotline.test"
            ),
            "fallback": DirectoryEntry.objects.create(
                kind="international_fallback", name="International network", emails="intl@network.test"
            ),
        }

    return make


@pytest.fixture
def mmdb(tmp_path, settings):
    """Builds ASN and country databases for NETWORKS and configures the app to read them."""
    paths = mmdb_files(tmp_path, NETWORKS)
    settings.TAKEDOWN_ASN_DB, settings.TAKEDOWN_COUNTRY_DB = str(paths[0]), str(paths[1])
    return paths


@pytest.fixture
def rdap(settings):
    server = Rdap()
    settings.TAKEDOWN_RDAP_BASE_URL = server.url("/")
    yield server
    server.close()


@pytest.fixture
def dns_zone(settings):
    """A UDP DNS server on 127.0.0.1 answering from a dict the test may change; the app is
    configured to ask it. Names absent from every key do not exist (NXDOMAIN)."""
    zone: dict[tuple[str, str], list[str]] = {}
    with local_dns_server(zone) as port:
        settings.TAKEDOWN_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.TAKEDOWN_DNS_PORT = port
        yield zone


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1; the app sends through Django's SMTP backend to it."""
    with smtp_server() as (port, mailbox):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
            }
        }
        yield mailbox


@pytest.fixture
def webhook():
    """Receives webhook POSTs in `posts`; answers `post_status` (a test may make it fail)."""
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def clock():
    """A controllable clock for the tick: starts now, moves only when told."""
    from django.utils import timezone

    class Clock:
        def __init__(self):
            self.now = timezone.now()

        def advance(self, **delta):
            self.now += timedelta(**delta)
            return self.now

    return Clock()


@pytest.fixture
def tools():
    """tools(**changes) -> the app's tools built from the current settings, with some replaced
    (for example a check that says "online" for a case whose URL names a host that only the test
    DNS server knows, which the fetcher could not reach)."""
    import dataclasses
    from contextlib import ExitStack

    from openmnr.takedown import config

    with ExitStack() as stack:

        def make(**changes):
            return dataclasses.replace(stack.enter_context(config.tools_from_settings()), **changes)

        yield make


@pytest.fixture
def always():
    """always(outcome) -> a check that always answers `outcome` ("online", "gone", ...)."""
    from openmnr.core.takedown.schedule import Check
    from openmnr.takedown.availability import CheckResult

    return lambda outcome: lambda case: CheckResult(Check(outcome), detail=f"test: {outcome}")


@pytest.fixture
def static_tracer(mmdb, rdap):
    """static_tracer(zone) -> a tracer whose DNS answers come from `zone` (a StaticResolver), with
    the test .mmdb files and the local RDAP server."""
    from openmnr.core.hosting.cdn import CdnCatalog
    from openmnr.core.hosting.dns import StaticResolver
    from openmnr.core.hosting.geo import GeoLookup
    from openmnr.core.hosting.rdap import RdapClient
    from openmnr.core.hosting.trace import Tracer

    geo = GeoLookup(asn_db=mmdb[0], country_db=mmdb[1])
    yield lambda zone: Tracer(
        StaticResolver(zone), CdnCatalog.load(), geo=geo, rdap=RdapClient(base_url=rdap.url("/"))
    )
    geo.close()


@pytest.fixture
def reported_and_assessed(make_user):
    """reported_and_assessed(url) -> a case reported through the public intake, triaged for real
    (its media fetched from the test site and hashed) and assessed by an analyst as baseline."""
    from openmnr.hotline import assess, cases, intake, triage
    from openmnr.hotline.classification import Classification

    analyst = make_user("analyst")

    def make(url: str):
        submission = intake.receive_public(intake.ReportInput(urls=[url]))
        case = submission.urls.get().case
        triage.run(case.pk)
        cases.claim(case.pk, analyst)
        for item in case.items.all():
            assess.classify_item(item.pk, analyst, Classification("baseline", "A", "prepubescent"))
        return assess.complete(case.pk, analyst)

    return make


@pytest.fixture
def photos(shared):
    """Two unrelated benign photographs (bytes) and a re-encoded copy of the first."""
    import io

    from PIL import Image

    folder = shared / "corpus" / "natural"
    first, second = ((folder / f"{name}-00.jpg").read_bytes() for name in ("astronaut", "coffee"))
    out = io.BytesIO()
    Image.open(io.BytesIO(first)).save(out, format="JPEG", quality=70)
    return {"photo": first, "other": second, "reencoded": out.getvalue()}
