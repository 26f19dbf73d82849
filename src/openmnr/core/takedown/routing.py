"""Routing: which actions a hosting trace calls for, decided by rules an administrator edits.

Rules are plain data (JSON-ready), tried in order; the first whose every condition holds gives the
actions. A rule:

    {"name": "hosted in our country",          # shown on the case timeline: why these actions
     "when": {"country": "home"},              # conditions, all must hold; {} always holds
     "then": ["notice_host", "refer_law_enforcement"]}

Conditions ("when"):
    country   "home" | "abroad" | "unknown" | a list of ISO 3166-1 alpha-2 codes. The country is the
              trace's hosting_country, which is unknown behind a CDN (the CDN's edge country says
              nothing about the origin) and when nothing resolved.
    cdn       true | false | a list of CDN names from cdn.json
    asn       a list of AS numbers

Actions ("then"):
    notice_host            notice to the host's abuse contacts (not possible behind a CDN)
    notice_cdn             notice to the CDN's abuse contacts, when there is a CDN
    notice_registrar       notice to the registrar's abuse contacts
    refer_law_enforcement  referral to the national law-enforcement contact of the directory
    forward_partner        forward to the partner hotline of the hosting country, or the
                           international fallback of the directory
    analyst_decides        put the case in front of an analyst

An action that cannot be carried out (no abuse contact found, no partner, host unknown) becomes an
`analyst_decides` action saying why, so nothing is dropped silently.

The directory holds the contacts routing hands out:

    {"law_enforcement": {"name": "...", "emails": ["..."]},
     "partners": [{"country": "BR", "name": "SaferNet Brasil", "emails": ["..."], "api_url": null}],
     "international_fallback": {"name": "...", "emails": ["..."], "api_url": "..."}}
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown import TakedownError


class ActionKind(StrEnum):
    """What routing can ask for. The values are what rules name and what a case's stored actions
    hold (a StrEnum compares equal to its value, so stored dicts need no conversion)."""

    NOTICE_HOST = "notice_host"
    NOTICE_CDN = "notice_cdn"
    NOTICE_REGISTRAR = "notice_registrar"
    REFER_LAW_ENFORCEMENT = "refer_law_enforcement"
    FORWARD_PARTNER = "forward_partner"
    ANALYST_DECIDES = "analyst_decides"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_notice(self) -> bool:
        """A notice to a host, CDN or registrar (the ones the notice cadence repeats)."""
        return self in NOTICE_KINDS


_LABELS = {
    ActionKind.NOTICE_HOST: "Notice to the host",
    ActionKind.NOTICE_CDN: "Notice to the CDN",
    ActionKind.NOTICE_REGISTRAR: "Notice to the registrar",
    ActionKind.REFER_LAW_ENFORCEMENT: "Referral to law enforcement",
    ActionKind.FORWARD_PARTNER: "Forward to a partner hotline",
    ActionKind.ANALYST_DECIDES: "An analyst decides",
}
NOTICE_KINDS = frozenset({ActionKind.NOTICE_HOST, ActionKind.NOTICE_CDN, ActionKind.NOTICE_REGISTRAR})
ACTION_KINDS = tuple(ActionKind)
CONDITIONS = ("country", "cdn", "asn")
COUNTRY_WORDS = ("home", "abroad", "unknown")

# Behind a CDN the CDN gets the notice and can usually name the origin host to a hotline; an analyst
# then re-routes the case by the origin's country.
DEFAULT_RULES = [
    {
        "name": "hosted in our country",
        "when": {"country": "home"},
        "then": [ActionKind.NOTICE_HOST, ActionKind.REFER_LAW_ENFORCEMENT],
    },
    {
        "name": "behind a CDN",
        "when": {"cdn": True},
        "then": [ActionKind.NOTICE_CDN, ActionKind.ANALYST_DECIDES],
    },
    {"name": "hosted abroad", "when": {"country": "abroad"}, "then": [ActionKind.FORWARD_PARTNER]},
    {"name": "host unknown", "when": {}, "then": [ActionKind.ANALYST_DECIDES]},
]

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class RoutingError(TakedownError):
    """The rules, the directory or the home country are not in the documented shape."""


@dataclass(frozen=True)
class Contact:
    name: str
    emails: tuple[str, ...] = ()
    api_url: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class Action:
    """One thing to do. `to` is None only for analyst_decides; `rule` names the rule that chose it."""

    kind: ActionKind
    to: Contact | None
    rule: str
    note: str = ""


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict
    then: tuple[ActionKind, ...]


@dataclass(frozen=True)
class Directory:
    law_enforcement: Contact | None = None
    partners: dict[str, Contact] = field(default_factory=dict)  # by country code
    international_fallback: Contact | None = None

    @classmethod
    def from_dict(cls, data: dict) -> "Directory":
        """Raises RoutingError naming the entry that is wrong."""
        if not isinstance(data, dict):
            raise RoutingError("directory: must be an object")
        partners = {}
        for index, entry in enumerate(data.get("partners") or []):
            contact = _contact(entry, f"directory partner {index + 1}")
            if contact.country is None:
                raise RoutingError(f"directory partner {index + 1}: needs a country")
            partners[contact.country] = contact
        return cls(
            law_enforcement=_contact(data["law_enforcement"], "law_enforcement")
            if data.get("law_enforcement")
            else None,
            partners=partners,
            international_fallback=(
                _contact(data["international_fallback"], "international_fallback")
                if data.get("international_fallback")
                else None
            ),
        )


def _contact(entry, where: str) -> Contact:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise RoutingError(f"{where}: needs a name")
    emails = entry.get("emails") or []
    if not isinstance(emails, list) or not all(isinstance(email, str) and "@" in email for email in emails):
        raise RoutingError(f"{where}: emails must be a list of e-mail addresses")
    api_url = entry.get("api_url")
    if api_url is not None and not (isinstance(api_url, str) and api_url.startswith("https://")):
        raise RoutingError(f"{where}: api_url must be an https:// URL")
    if not emails and api_url is None:
        raise RoutingError(f"{where}: needs at least one e-mail address or an api_url")
    country = entry.get("country")
    if country is not None:
        country = _country_code(country, where)
    return Contact(name=entry["name"], emails=tuple(emails), api_url=api_url, country=country)


def _country_code(value, where: str) -> str:
    if not isinstance(value, str) or not _COUNTRY.match(value.upper()):
        raise RoutingError(f"{where}: {value!r} is not an ISO 3166-1 alpha-2 country code")
    return value.upper()


def parse_rules(rules: list[dict]) -> tuple[Rule, ...]:
    """Checks the rules an administrator wrote; raises RoutingError naming the rule and the fault.
    Call it when the rules are saved, so that a mistake is seen there and not at routing time."""
    if not isinstance(rules, list) or not rules:
        raise RoutingError("rules: must be a non-empty list")
    parsed = []
    for index, rule in enumerate(rules, start=1):
        where = f"rule {index}"
        if not isinstance(rule, dict):
            raise RoutingError(f"{where}: must be an object")
        name = rule.get("name")
        if not isinstance(name, str) or not name:
            raise RoutingError(f"{where}: needs a name")
        where = f"rule {index} ({name})"
        when, then = rule.get("when", {}), rule.get("then")
        if not isinstance(when, dict):
            raise RoutingError(f"{where}: 'when' must be an object")
        unknown = set(when) - set(CONDITIONS)
        if unknown:
            raise RoutingError(
                f"{where}: unknown condition {sorted(unknown)[0]!r} (known: {', '.join(CONDITIONS)})"
            )
        when = dict(when)
        if "country" in when:
            country = when["country"]
            if isinstance(country, list):
                when["country"] = [_country_code(code, where) for code in country]
            elif country not in COUNTRY_WORDS:
                raise RoutingError(
                    f"{where}: country must be one of {COUNTRY_WORDS} or a list of country codes"
                )
        if "cdn" in when and not (
            isinstance(when["cdn"], bool)
            or (isinstance(when["cdn"], list) and all(isinstance(n, str) for n in when["cdn"]))
        ):
            raise RoutingError(f"{where}: cdn must be true, false or a list of CDN names")
        if "asn" in when and not (
            isinstance(when["asn"], list)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in when["asn"])
        ):
            raise RoutingError(f"{where}: asn must be a list of AS numbers")
        if not isinstance(then, list) or not then:
            raise RoutingError(f"{where}: 'then' must be a non-empty list of actions")
        for kind in then:
            if kind not in ACTION_KINDS:
                raise RoutingError(f"{where}: unknown action {kind!r} (known: {', '.join(ACTION_KINDS)})")
        parsed.append(Rule(name=name, when=when, then=tuple(ActionKind(kind) for kind in then)))
    return tuple(parsed)


def _matches(rule: Rule, trace: HostingTrace, home_country: str) -> bool:
    country = trace.hosting_country
    for key, wanted in rule.when.items():
        if key == "country":
            if wanted == "home":
                holds = country == home_country
            elif wanted == "abroad":
                holds = country is not None and country != home_country
            elif wanted == "unknown":
                holds = country is None
            else:
                holds = country in wanted
        elif key == "cdn":
            holds = (trace.cdn is not None) == wanted if isinstance(wanted, bool) else trace.cdn in wanted
        else:
            holds = trace.asn in wanted
        if not holds:
            return False
    return True


def route(trace: HostingTrace, rules: list[dict], directory: Directory, home_country: str) -> list[Action]:
    """The actions for `trace` under the first matching rule; when no rule matches, one
    analyst_decides action. Raises RoutingError for malformed rules or home country."""
    home = _country_code(home_country, "home_country")
    for rule in parse_rules(rules):
        if _matches(rule, trace, home):
            actions: list[Action] = []
            for kind in rule.then:
                action = _action(kind, rule.name, trace, directory)
                if action is not None and action not in actions:
                    actions.append(action)
            return actions
    return [Action(kind=ActionKind.ANALYST_DECIDES, to=None, rule="", note="no routing rule matched")]


def _action(kind: ActionKind, rule: str, trace: HostingTrace, directory: Directory) -> Action | None:
    def analyst(note: str) -> Action:
        return Action(kind=ActionKind.ANALYST_DECIDES, to=None, rule=rule, note=note)

    if kind == ActionKind.NOTICE_HOST:
        if trace.cdn:
            return analyst(f"behind {trace.cdn} the host is unknown")
        if not trace.abuse_contacts:
            return analyst(f"no abuse contact found for {trace.org or trace.hostname}")
        host = Contact(name=trace.org or trace.hostname, emails=trace.abuse_contacts, country=trace.country)
        return Action(kind=kind, to=host, rule=rule)
    if kind == ActionKind.NOTICE_CDN:
        if not trace.cdn:
            return None  # "notify the CDN, if any"
        if not trace.abuse_contacts:
            return analyst(f"no abuse contact found for {trace.cdn}")
        return Action(kind=kind, to=Contact(name=trace.cdn, emails=trace.abuse_contacts), rule=rule)
    if kind == ActionKind.NOTICE_REGISTRAR:
        if not trace.registrar_abuse_contacts:
            return analyst(f"no registrar abuse contact found for {trace.hostname}")
        registrar = Contact(name=trace.registrar or "registrar", emails=trace.registrar_abuse_contacts)
        return Action(kind=kind, to=registrar, rule=rule)
    if kind == ActionKind.REFER_LAW_ENFORCEMENT:
        if directory.law_enforcement is None:
            return analyst("no national law-enforcement contact in the directory")
        return Action(kind=kind, to=directory.law_enforcement, rule=rule)
    if kind == ActionKind.FORWARD_PARTNER:
        country = trace.hosting_country
        if country is None:
            return analyst("hosting country unknown: no partner hotline to forward to")
        partner = directory.partners.get(country) or directory.international_fallback
        if partner is None:
            return analyst(f"no partner hotline for {country} and no international fallback in the directory")
        note = (
            ""
            if country in directory.partners
            else f"no partner hotline for {country}: international fallback"
        )
        return Action(kind=kind, to=partner, rule=rule, note=note)
    return analyst(f"rule {rule!r} asks for an analyst")
