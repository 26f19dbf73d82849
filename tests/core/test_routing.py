"""Routing: rules an administrator edits decide who gets a notice, a referral or a forward."""

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown.routing import (
    DEFAULT_RULES,
    ActionKind,
    Contact,
    Directory,
    RoutingError,
    parse_rules,
    route,
)

HOME = "PT"
DIRECTORY = Directory.from_dict(
    {
        "law_enforcement": {"name": "National cybercrime unit", "emails": ["referrals@police.example"]},
        "partners": [
            {"country": "BR", "name": "Partner hotline BR", "emails": ["reports@hotline-br.example"]},
            {
                "country": "de",
                "name": "Partner hotline DE",
                "api_url": "https://hotline-de.example/api/reports",
            },
        ],
        "international_fallback": {"name": "International network", "emails": ["fallback@network.example"]},
    }
)


def trace(**changes) -> HostingTrace:
    values = {
        "hostname": "www.example.pt",
        "cname_chain": (),
        "ips": ("203.0.113.7",),
        "asn": 64500,
        "org": "Example Hosting Lda",
        "country": "PT",
        "cdn": None,
        "abuse_contacts": ("abuse@host.example",),
        "registrar": "Example Registrar SA",
        "registrar_abuse_contacts": ("abuse@registrar.example",),
        "traced_at": datetime(2026, 11, 28, tzinfo=UTC),
    }
    values.update(changes)
    return HostingTrace(**values)


def kinds(actions):
    return [action.kind for action in actions]


def test_hosted_at_home_notice_to_host_and_referral_to_police():
    actions = route(trace(), DEFAULT_RULES, DIRECTORY, HOME)
    assert kinds(actions) == ["notice_host", "refer_law_enforcement"]
    assert actions[0].to == Contact(name="Example Hosting Lda", emails=("abuse@host.example",), country="PT")
    assert actions[1].to.emails == ("referrals@police.example",)
    assert {action.rule for action in actions} == {"hosted in our country"}


def test_behind_a_cdn_the_cdn_gets_the_notice_and_an_analyst_finds_the_origin():
    # The address is a CDN edge in the home country: that says nothing about where the origin is.
    actions = route(
        trace(cdn="Cloudflare", abuse_contacts=("abuse@cloudflare.com",)), DEFAULT_RULES, DIRECTORY, HOME
    )
    assert kinds(actions) == ["notice_cdn", "analyst_decides"]
    assert actions[0].to.name == "Cloudflare" and actions[0].to.emails == ("abuse@cloudflare.com",)


def test_hosted_abroad_goes_to_that_country_partner_or_the_fallback():
    to_br = route(trace(country="BR"), DEFAULT_RULES, DIRECTORY, HOME)
    assert kinds(to_br) == ["forward_partner"] and to_br[0].to.name == "Partner hotline BR"
    to_de = route(trace(country="DE"), DEFAULT_RULES, DIRECTORY, HOME)
    assert to_de[0].to.api_url == "https://hotline-de.example/api/reports"
    to_jp = route(trace(country="JP"), DEFAULT_RULES, DIRECTORY, HOME)
    assert to_jp[0].to.name == "International network" and "international fallback" in to_jp[0].note

    lonely = Directory.from_dict({"partners": []})
    nowhere = route(trace(country="JP"), DEFAULT_RULES, lonely, HOME)
    assert kinds(nowhere) == ["analyst_decides"] and "no partner hotline for JP" in nowhere[0].note


def test_unknown_host_goes_to_an_analyst():
    unresolved = trace(ips=(), asn=None, org=None, country=None, abuse_contacts=())
    actions = route(unresolved, DEFAULT_RULES, DIRECTORY, HOME)
    assert kinds(actions) == ["analyst_decides"] and actions[0].rule == "host unknown"


def test_a_notice_without_a_contact_becomes_an_analyst_task_saying_why():
    actions = route(trace(abuse_contacts=()), DEFAULT_RULES, DIRECTORY, HOME)
    assert kinds(actions) == ["analyst_decides", "refer_law_enforcement"]
    assert "no abuse contact found for Example Hosting Lda" in actions[0].note
    no_police = route(trace(), DEFAULT_RULES, Directory(), HOME)
    assert "no national law-enforcement contact" in no_police[1].note


def test_rules_an_administrator_adds_as_json_take_effect_in_order():
    edited = (
        json.loads(
            """[
          {"name": "known bulletproof host", "when": {"asn": [64666]}, "then": ["refer_law_enforcement", "notice_registrar"]},
          {"name": "neighbours", "when": {"country": ["ES", "FR"]}, "then": ["notice_host", "forward_partner"]}
        ]"""
        )
        + DEFAULT_RULES
    )
    bulletproof = route(trace(asn=64666, country="NL"), edited, DIRECTORY, HOME)
    assert kinds(bulletproof) == ["refer_law_enforcement", "notice_registrar"]
    assert bulletproof[1].to == Contact(name="Example Registrar SA", emails=("abuse@registrar.example",))
    neighbour = route(trace(country="ES"), edited, DIRECTORY, HOME)
    assert kinds(neighbour) == ["notice_host", "forward_partner"]
    assert neighbour[1].to.name == "International network"
    assert kinds(route(trace(), edited, DIRECTORY, HOME)) == ["notice_host", "refer_law_enforcement"]


def test_when_no_rule_matches_an_analyst_decides():
    only_cdn = [{"name": "cdn only", "when": {"cdn": ["Fastly"]}, "then": ["notice_cdn"]}]
    actions = route(trace(), only_cdn, DIRECTORY, HOME)
    assert kinds(actions) == ["analyst_decides"] and actions[0].note == "no routing rule matched"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "non-empty list"),
        ([{"when": {}, "then": ["notice_host"]}], "rule 1: needs a name"),
        (
            [{"name": "x", "when": {"colour": "red"}, "then": ["notice_host"]}],
            "rule 1 \\(x\\): unknown condition 'colour'",
        ),
        ([{"name": "x", "when": {}, "then": ["notice_hots"]}], "unknown action 'notice_hots'"),
        ([{"name": "x", "when": {"country": ["Portugal"]}, "then": ["notice_host"]}], "not an ISO 3166-1"),
        ([{"name": "x", "when": {"country": "nearby"}, "then": ["notice_host"]}], "country must be one of"),
        ([{"name": "x", "when": {"asn": ["AS1"]}, "then": ["notice_host"]}], "asn must be a list"),
        ([{"name": "x", "when": {}, "then": []}], "non-empty list of actions"),
    ],
)
def test_bad_rules_are_refused_with_the_rule_named(rules, message):
    with pytest.raises(RoutingError, match=message):
        parse_rules(rules)


def test_bad_directory_and_home_country_are_refused():
    with pytest.raises(RoutingError, match="partner 1: needs a country"):
        Directory.from_dict({"partners": [{"name": "X", "emails": ["a@b.example"]}]})
    with pytest.raises(RoutingError, match="api_url must be an https"):
        Directory.from_dict({"international_fallback": {"name": "X", "api_url": "http://plain.example"}})
    with pytest.raises(RoutingError, match="at least one e-mail"):
        Directory.from_dict({"law_enforcement": {"name": "X"}})
    with pytest.raises(RoutingError, match="home_country"):
        route(trace(), DEFAULT_RULES, DIRECTORY, "Portugal")


countries = st.sampled_from([None, "PT", "BR", "DE", "JP"])
contacts = st.sampled_from([(), ("abuse@host.example",)])


@settings(max_examples=60, deadline=None)
@given(country=countries, cdn=st.sampled_from([None, "Cloudflare"]), abuse=contacts, ips=st.booleans())
def test_default_rules_always_give_someone_something_to_do(country, cdn, abuse, ips):
    actions = route(
        trace(country=country, cdn=cdn, abuse_contacts=abuse, ips=("203.0.113.7",) if ips else ()),
        DEFAULT_RULES,
        DIRECTORY,
        HOME,
    )
    assert actions
    for action in actions:
        if action.kind == "analyst_decides":
            assert action.to is None and action.note
        else:
            assert action.to.emails or action.to.api_url
    if cdn:
        assert "notice_host" not in kinds(actions) and "refer_law_enforcement" not in kinds(actions)


def test_action_kinds_are_what_rules_name_each_with_its_label():
    assert [str(kind) for kind in ActionKind] == [
        "notice_host",
        "notice_cdn",
        "notice_registrar",
        "refer_law_enforcement",
        "forward_partner",
        "analyst_decides",
    ]
    assert ActionKind.NOTICE_CDN.label == "Notice to the CDN" and all(kind.label for kind in ActionKind)
    assert [kind.is_notice for kind in ActionKind] == [True, True, True, False, False, False]
    (rule,) = parse_rules([{"name": "abroad", "when": {}, "then": ["forward_partner"]}])
    assert rule.then == (ActionKind.FORWARD_PARTNER,) and json.dumps(list(rule.then)) == '["forward_partner"]'
