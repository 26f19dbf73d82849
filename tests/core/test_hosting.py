"""Hosting trace: DNS, .mmdb lookups, CDN detection, RDAP contacts and the combined trace.

Nothing here leaves the machine: DNS answers come from a StaticResolver or from a tiny DNS server on
127.0.0.1, RDAP from an http.server on 127.0.0.1, and the .mmdb files are built in tmp_path.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from helpers import Rdap, local_dns_server, mmdb_files
from openmnr.core.hosting import HostingError
from openmnr.core.hosting.cdn import CdnCatalog, CdnDataError
from openmnr.core.hosting.dns import (
    CnameLoop,
    DnspythonResolver,
    InvalidHostname,
    NameNotFound,
    StaticResolver,
    resolve,
)
from openmnr.core.hosting.geo import GeoDatabaseError, GeoLookup, InvalidAddress
from openmnr.core.hosting.rdap import (
    Bootstrap,
    RdapBadResponse,
    RdapClient,
    RdapConfigError,
    RdapNoServer,
    RdapNotAllowed,
    RdapUnavailable,
)
from openmnr.core.hosting.trace import HostingTrace, TraceDataError, Tracer, compare

# Documentation address ranges (RFC 5737, RFC 3849) stand in for real hosts.
ZONE = {
    ("www.example.pt", "CNAME"): ["example.pt."],
    ("example.pt", "A"): ["203.0.113.7"],
    ("example.pt", "AAAA"): ["2001:db8::7"],
    ("shop.example.org", "CNAME"): ["shop.example.org.cdn.cloudflare.net."],
    ("shop.example.org.cdn.cloudflare.net", "A"): ["198.51.100.20"],
    ("moved.example.pt", "A"): ["192.0.2.9"],
    ("loop-a.example.net", "CNAME"): ["loop-b.example.net."],
    ("loop-b.example.net", "CNAME"): ["loop-a.example.net."],
    ("empty.example.pt", "TXT"): ["v=nothing"],
}


# --- DNS -------------------------------------------------------------------------------------------


def test_resolve_follows_the_cname_chain_to_both_address_families():
    resolution = resolve("WWW.Example.PT.", StaticResolver(ZONE))
    assert resolution.hostname == "www.example.pt"
    assert resolution.cname_chain == ("example.pt",)
    assert resolution.addresses == ("203.0.113.7", "2001:db8::7")


def test_resolve_reports_a_missing_name_and_a_cname_loop():
    with pytest.raises(NameNotFound):
        resolve("nothing-here.example.pt", StaticResolver(ZONE))
    with pytest.raises(CnameLoop):
        resolve("loop-a.example.net", StaticResolver(ZONE))


@pytest.mark.parametrize("text", ["", "exa mple.org", "a..b.org", "x" * 64 + ".org", "bad/host.org"])
def test_resolve_rejects_what_is_not_a_hostname(text):
    with pytest.raises(InvalidHostname):
        resolve(text, StaticResolver(ZONE))


def test_an_ip_literal_needs_no_lookup():
    class Refuses:
        def lookup(self, name, rdtype):
            raise AssertionError("no DNS query expected for an address")

    assert resolve("[2001:db8::1]", Refuses()).addresses == ("2001:db8::1",)


@pytest.fixture
def dns_server():
    """The port of a UDP DNS server on 127.0.0.1 answering from ZONE."""
    with local_dns_server(ZONE) as port:
        yield port


def test_dnspython_resolver_against_a_local_dns_server(dns_server):
    resolver = DnspythonResolver(nameservers=["127.0.0.1"], port=dns_server, timeout=2.0)
    resolution = resolve("www.example.pt", resolver)
    assert resolution.cname_chain == ("example.pt",)
    assert resolution.addresses == ("203.0.113.7", "2001:db8::7")
    assert resolve("empty.example.pt", resolver).addresses == ()
    with pytest.raises(NameNotFound):
        resolve("nothing-here.example.pt", resolver)


# --- .mmdb databases -------------------------------------------------------------------------------

NETWORKS = {
    "203.0.113.0/24": (64500, "Example Hosting Lda", "PT"),
    "2001:db8::/32": (64500, "Example Hosting Lda", "PT"),
    "198.51.100.0/24": (13335, "CLOUDFLARENET", "US"),
    "192.0.2.0/24": (64501, "Other Hosting GmbH", "DE"),
}


@pytest.fixture
def mmdb(tmp_path):
    """(asn_path, country_path): small databases in MaxMind's GeoLite2 layouts."""
    return mmdb_files(tmp_path, NETWORKS)


def test_geo_lookup_gives_asn_organisation_and_country_for_both_families(mmdb):
    with GeoLookup(asn_db=mmdb[0], country_db=mmdb[1]) as geo:
        v4, v6 = geo.lookup("203.0.113.7"), geo.lookup("2001:db8::7")
        unknown = geo.lookup("100.64.0.1")
    assert (v4.asn, v4.org, v4.country) == (64500, "Example Hosting Lda", "PT")
    assert (v6.asn, v6.org, v6.country) == (64500, "Example Hosting Lda", "PT")
    assert (unknown.asn, unknown.org, unknown.country) == (None, None, None)


def test_geo_lookup_with_only_a_country_database(mmdb):
    with GeoLookup(country_db=mmdb[1]) as geo:
        info = geo.lookup("192.0.2.1")
    assert (info.asn, info.org, info.country) == (None, None, "DE")


def test_geo_errors_are_typed(mmdb, tmp_path):
    with pytest.raises(GeoDatabaseError, match="not found"):
        GeoLookup(asn_db=tmp_path / "missing.mmdb")
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(GeoDatabaseError, match="not a readable"):
        GeoLookup(asn_db=mmdb[0], country_db=garbage)
    with GeoLookup(asn_db=mmdb[0]) as geo, pytest.raises(InvalidAddress):
        geo.lookup("203.0.113.999")


# --- CDN catalogue ---------------------------------------------------------------------------------


def test_packaged_cdn_catalogue_names_its_source_and_date():
    catalog = CdnCatalog.load()
    assert catalog.source and datetime.strptime(catalog.updated, "%Y-%m-%d")
    names = {provider.name for provider in catalog.providers}
    assert {"Cloudflare", "Akamai", "Fastly", "Amazon CloudFront"} <= names


def test_cdn_detection_by_cname_suffix_and_by_asn():
    catalog = CdnCatalog.load()
    assert catalog.detect(cname_chain=["d111111abcdef8.cloudfront.net"]).name == "Amazon CloudFront"
    assert catalog.detect(asns=[64500, 13335]).name == "Cloudflare"
    assert catalog.detect(cname_chain=["e1234.a.akamaiedge.net."], asns=[54113]).name == "Akamai"
    # A suffix matches whole labels only.
    assert catalog.detect(cname_chain=["notcloudfront.net"], asns=[64500, None]) is None


def test_cdn_data_file_errors_are_typed(tmp_path):
    bad = tmp_path / "cdn.json"
    bad.write_text(
        json.dumps({"source": "x", "updated": "2026-01-01", "providers": [{"name": "X", "asns": ["AS1"]}]})
    )
    with pytest.raises(CdnDataError, match="AS number"):
        CdnCatalog.load(bad)
    bad.write_text("{")
    with pytest.raises(CdnDataError):
        CdnCatalog.load(bad)


# --- RDAP ------------------------------------------------------------------------------------------


def _vcard(name, email=None):
    items = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if email:
        items.append(["email", {"type": "work"}, "text", email])
    return ["vcard", items]


IP_ANSWER = {
    "objectClassName": "ip network",
    "handle": "203.0.113.0 - 203.0.113.255",
    "entities": [
        {
            "objectClassName": "entity",
            "roles": ["registrant"],
            "vcardArray": _vcard("Example Hosting Lda", "noc@host.example"),
        },
        {
            "objectClassName": "entity",
            "roles": ["technical"],
            "vcardArray": _vcard("NOC"),
            "entities": [
                {
                    "objectClassName": "entity",
                    "roles": ["abuse"],
                    "vcardArray": _vcard("Abuse", "Abuse@Host.Example"),
                }
            ],
        },
    ],
}
DOMAIN_ANSWER = {
    "objectClassName": "domain",
    "ldhName": "example.pt",
    "entities": [
        {
            "objectClassName": "entity",
            "roles": ["registrar"],
            "handle": "9999",
            "vcardArray": _vcard("Example Registrar SA"),
            "entities": [
                {"roles": ["abuse"], "vcardArray": _vcard("Abuse desk", "mailto:abuse@registrar.example")}
            ],
        }
    ],
}


@pytest.fixture
def rdap_server():
    server = Rdap()
    server.answer("/ip/203.0.113.7", IP_ANSWER)
    server.answer("/domain/example.pt", DOMAIN_ANSWER)
    yield server
    server.close()


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_rdap_abuse_contact_for_an_ip_and_registrar_for_the_registered_domain(rdap_server):
    client = RdapClient(base_url=rdap_server.url())
    ip_record = client.ip("203.0.113.7")
    assert ip_record.abuse_emails == ("abuse@host.example",)  # nested, lower-cased; not the NOC address
    domain_record = client.domain("www.example.pt")  # www.example.pt is unknown: the parent is asked
    assert domain_record.registrar == "Example Registrar SA"
    assert domain_record.abuse_emails == ("abuse@registrar.example",)
    assert rdap_server.requests == ["/ip/203.0.113.7", "/domain/www.example.pt", "/domain/example.pt"]
    assert client.ip("192.0.2.1") is None


def test_rdap_answers_are_cached_until_the_ttl_runs_out(rdap_server):
    clock = FakeClock()
    client = RdapClient(base_url=rdap_server.url(), cache_ttl=600, clock=clock)
    client.ip("203.0.113.7")
    clock.now += 599
    client.ip("203.0.113.7")
    assert len(rdap_server.requests) == 1
    clock.now += 2
    client.ip("203.0.113.7")
    assert len(rdap_server.requests) == 2


def test_rdap_timeout_and_server_errors_are_unavailable(rdap_server):
    rdap_server.answer("/ip/192.0.2.1", {"errorCode": 503}, status=503)
    client = RdapClient(base_url=rdap_server.url(), timeout=0.3)
    with pytest.raises(RdapUnavailable):
        client.ip("192.0.2.1")
    hanging = RdapClient(base_url=rdap_server.url("/hang/"), timeout=0.3)
    with pytest.raises(RdapUnavailable):
        hanging.ip("203.0.113.7")


def test_rdap_refuses_a_redirect_outside_the_configured_server(rdap_server):
    elsewhere = Rdap()
    try:
        elsewhere.answer("/ip/192.0.2.1", IP_ANSWER)
        rdap_server.answer(
            "/ip/192.0.2.1", b"", status=302, headers={"Location": elsewhere.url("/ip/192.0.2.1")}
        )
        rdap_server.answer("/ip/192.0.2.2", b"", status=301, headers={"Location": "/ip/203.0.113.7"})
        client = RdapClient(base_url=rdap_server.url())
        with pytest.raises(RdapNotAllowed):
            client.ip("192.0.2.1")
        assert elsewhere.requests == []
        assert client.ip("192.0.2.2").abuse_emails == ("abuse@host.example",)  # same server: followed
    finally:
        elsewhere.close()


def test_rdap_answer_that_is_not_json_is_a_bad_response(rdap_server):
    rdap_server.answer("/ip/192.0.2.3", b"<html>hello</html>")
    with pytest.raises(RdapBadResponse):
        RdapClient(base_url=rdap_server.url()).ip("192.0.2.3")


def test_rdap_bootstrap_files_choose_the_server(rdap_server, tmp_path):
    (tmp_path / "dns.json").write_text(
        json.dumps({"version": "1.0", "services": [[["pt"], [rdap_server.url()]]]})
    )
    (tmp_path / "ipv4.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "services": [
                    [["203.0.0.0/8"], ["http://127.0.0.1:9/"]],  # less specific: must lose
                    [["203.0.113.0/24"], [rdap_server.url()]],
                ],
            }
        )
    )
    client = RdapClient(bootstrap=Bootstrap.load(tmp_path))
    assert client.ip("203.0.113.7").abuse_emails == ("abuse@host.example",)
    assert client.domain("example.pt").registrar == "Example Registrar SA"
    with pytest.raises(RdapNoServer):
        client.domain("example.org")
    with pytest.raises(RdapNoServer):
        client.ip("2001:db8::7")


def test_rdap_configuration_errors(tmp_path):
    with pytest.raises(RdapConfigError):
        RdapClient()
    with pytest.raises(RdapConfigError):
        Bootstrap.load(tmp_path)  # no bootstrap file at all
    (tmp_path / "dns.json").write_text("[]")
    with pytest.raises(RdapConfigError):
        Bootstrap.load(tmp_path)


# --- the combined trace ----------------------------------------------------------------------------

TRACED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def tracer(mmdb, rdap_server):
    geo = GeoLookup(asn_db=mmdb[0], country_db=mmdb[1])
    yield Tracer(
        resolver=StaticResolver(ZONE),
        cdn_catalog=CdnCatalog.load(),
        geo=geo,
        rdap=RdapClient(base_url=rdap_server.url()),
        clock=lambda: TRACED_AT,
    )
    geo.close()


def test_trace_of_a_directly_hosted_site(tracer):
    trace = tracer.trace("www.example.pt")
    assert trace.cname_chain == ("example.pt",)
    assert trace.ips == ("203.0.113.7", "2001:db8::7")
    assert (trace.asn, trace.org, trace.country, trace.hosting_country) == (
        64500,
        "Example Hosting Lda",
        "PT",
        "PT",
    )
    assert trace.cdn is None
    assert trace.abuse_contacts == ("abuse@host.example",)
    assert trace.registrar == "Example Registrar SA"
    assert trace.registrar_abuse_contacts == ("abuse@registrar.example",)
    assert trace.traced_at == TRACED_AT and trace.problems == ()


def test_trace_behind_a_cdn_names_the_cdn_and_leaves_the_origin_unknown(tracer):
    trace = tracer.trace("shop.example.org")
    assert trace.cdn == "Cloudflare"
    assert trace.country == "US" and trace.hosting_country is None
    assert "abuse@cloudflare.com" in trace.abuse_contacts


def test_trace_of_a_missing_name_or_with_rdap_down_still_returns(tracer, rdap_server):
    gone = tracer.trace("nothing-here.example.pt")
    assert gone.ips == () and gone.asn is None and gone.abuse_contacts == ()
    assert any("does not exist" in problem for problem in gone.problems)

    rdap_server.answer("/ip/192.0.2.9", {"errorCode": 500}, status=500)
    partial = tracer.trace("moved.example.pt")
    assert partial.country == "DE" and partial.abuse_contacts == ()
    assert any("RDAP (IP 192.0.2.9)" in problem for problem in partial.problems)


def test_trace_survives_a_json_round_trip(tracer):
    trace = tracer.trace("www.example.pt")
    assert HostingTrace.from_dict(json.loads(json.dumps(trace.to_dict()))) == trace
    with pytest.raises(TraceDataError):
        HostingTrace.from_dict({"hostname": "www.example.pt"})


def test_compare_tells_a_change_of_host_from_a_change_of_address(tracer):
    before = tracer.trace("www.example.pt")
    later = TRACED_AT + timedelta(hours=12)
    same_network = HostingTrace.from_dict(
        {**before.to_dict(), "ips": ["203.0.113.8"], "traced_at": later.isoformat()}
    )
    moved = HostingTrace.from_dict(
        {**tracer.trace("moved.example.pt").to_dict(), "hostname": "www.example.pt"}
    )
    unresolved = HostingTrace.from_dict({**before.to_dict(), "ips": [], "asn": None, "country": None})

    assert compare(before, before).host_changed is False
    assert compare(before, before).changed_fields == ()
    assert compare(before, same_network).host_changed is False
    assert compare(before, same_network).changed_fields == ("ips",)
    change = compare(before, moved)
    assert change.host_changed is True
    assert {"asn", "country", "ips"} <= set(change.changed_fields)
    assert compare(before, unresolved).host_changed is False


def test_compare_without_asn_data_uses_shared_addresses():
    base = {
        "hostname": "example.pt",
        "cname_chain": [],
        "asn": None,
        "org": None,
        "country": None,
        "cdn": None,
        "abuse_contacts": [],
        "registrar": None,
        "registrar_abuse_contacts": [],
        "traced_at": TRACED_AT.isoformat(),
    }
    old = HostingTrace.from_dict({**base, "ips": ["203.0.113.7", "203.0.113.8"]})
    assert compare(old, HostingTrace.from_dict({**base, "ips": ["203.0.113.8"]})).host_changed is False
    assert compare(old, HostingTrace.from_dict({**base, "ips": ["192.0.2.9"]})).host_changed is True


def test_every_error_is_a_hosting_error():
    for error in (NameNotFound, CnameLoop, InvalidHostname, GeoDatabaseError, CdnDataError, RdapNotAllowed):
        assert issubclass(error, HostingError)
