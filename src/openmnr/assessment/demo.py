"""Demo data for `make run`: the self-assessment of Examplestan, a fictional country, and the signed
results of its fictional neighbour Neighbourland for the regional comparison.

Last year's cycle was signed by the demo national coordinator and countersigned by a second one (four
eyes); this year's is an open draft that they can take through review and both signatures. This
year's period includes today, so its live indicators show the demo reports and takedowns the other
apps' demos create. Neighbourland's results are signed with a key made for the demo, which the demo
administrator sets as Neighbourland's key before the coordinator imports them. Everything is written
through the app's services, so the history and the audit log look as they would after real use.
Running it again changes nothing.
"""

import hashlib
import json
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from openmnr.core.mnr import CapabilityState, action_plan
from openmnr.core.mnr import results as signed

from . import results, services, signoff
from .frameworks import framework
from .models import Cycle

COUNTRY = "Examplestan"
NEIGHBOUR = "Neighbourland"
VERSION = "mnr-2016"

# Who assesses which domain (demo usernames created by web/demo.py).
COORDINATOR = "national-coordinator"
SECOND_COORDINATOR = "national-coordinator-2"
ADMINISTRATOR = "administrator"
# A second national coordinator, for the four-eyes countersignature (web/demo.py creates it).
USERS = {SECOND_COORDINATOR: "national_coordinator"}
ASSIGNMENTS = {
    "policy-governance": ["national-coordinator"],
    "criminal-justice": ["law-enforcement"],
    "victim": ["senior-analyst"],
    "societal": ["analyst"],
    "industry": ["analyst", "senior-analyst"],
    "media-communications": ["senior-analyst"],
}
WEIGHTS = {"societal": 2.0}

# capability: (current, target, confidence, stakeholder, criteria met beyond those of levels <= current)
STAKEHOLDERS = {
    1: "Office of the Prime Minister",
    2: "National Statistics Office",
    3: "Ministry of Justice",
    4: "National Police",
    5: "Prosecutor General's Office",
    6: "Prison and Probation Service",
    7: "National Police",
    8: "Ministry of Health",
    9: "Ministry of Social Affairs",
    10: "Ministry of Justice",
    11: "Examplestan Child Helpline",
    12: "Examplestan Safer Internet Centre",
    13: "Ministry of Education",
    14: "National Youth Council",
    15: "Ministry of Health",
    16: "Telecoms Regulator",
    17: "Telecoms Regulator",
    18: "Examplestan Tech Association",
    19: "Examplestan Tech Association",
    20: "Press Council",
    21: "Ministry of Social Affairs",
}
PREVIOUS = {  # last year: capability -> (current, target, confidence, extra criteria met)
    1: (1, 3, "medium", ["1.2.a"]),
    3: (1, 3, "high", []),
    4: (1, 1, "medium", []),
    5: (0, 2, "low", []),
    8: (1, 2, "medium", []),
    9: (1, 2, "low", []),
    11: (2, 3, "high", []),
    12: (0, 3, "medium", []),
    13: (0, 2, "low", []),
    19: (0, 2, "low", []),
    20: (1, 2, "medium", []),
    21: (0, 2, "medium", []),
}
CURRENT = {  # this year: the worked example of docs/assessment.md, and the rest of the country
    1: (2, 3, "high", ["1.3.a"]),
    2: (0, 2, "medium", []),
    3: (1, 3, "high", ["3.2.a"]),
    4: (1, 1, "high", []),
    5: (1, 2, "medium", []),
    6: (0, 1, "low", []),
    7: (0, 2, "medium", []),
    8: (1, 2, "medium", ["8.2.a"]),
    9: (1, 2, "medium", []),
    10: (0, 1, "low", []),
    11: (2, 3, "high", []),
    12: (0, 3, "high", ["12.1.a"]),
    13: (1, 2, "medium", []),
    14: (0, 1, "low", []),
    15: (0, 1, "low", []),
    16: (0, 2, "medium", []),
    17: (0, 1, "low", []),
    18: (0, 1, "low", []),
    19: (1, 2, "medium", []),
    20: (1, 2, "medium", []),
    21: (0, 2, "medium", []),
}
EVIDENCE = [  # (capability, kind, title, criterion, url or note)
    (
        1,
        "link",
        "National strategy on CSEA 2023-2027",
        "1.2.a",
        "https://example.org/examplestan/csea-strategy",
    ),
    (
        3,
        "link",
        "Criminal Code, chapter 14 (sexual offences against children)",
        "3.2.a",
        "https://example.org/examplestan/criminal-code-ch14",
    ),
    (
        12,
        "note",
        "Hotline mandate",
        "12.1.a",
        "The Examplestan Safer Internet Centre was mandated as national hotline by ministerial decree.",
    ),
    (11, "link", "Child helpline annual report 2024", "", "https://example.org/examplestan/helpline-2024"),
]
# Neighbourland's last signed-off cycle: capability -> (current, target). It runs a hotline and a
# police unit already, and plans the legislation and takedown steps Examplestan also needs.
NEIGHBOUR_LEVELS = {
    1: (2, 3), 2: (1, 2), 3: (1, 3), 4: (2, 3), 5: (1, 2), 6: (1, 1), 7: (1, 2), 8: (1, 2), 9: (2, 2),
    10: (1, 1), 11: (3, 3), 12: (1, 2), 13: (2, 3), 14: (1, 2), 15: (0, 1), 16: (1, 2), 17: (0, 2),
    18: (1, 1), 19: (1, 2), 20: (2, 2), 21: (2, 3),
}  # fmt: skip


def _user(name):
    return get_user_model().objects.filter(username=name).first()


def _record(cycle, table):
    fw = framework(VERSION)
    for number, (current, target, confidence, extra) in table.items():
        capability = fw.capability(number)
        met = [c.id for c in capability.criteria if c.level <= current] + extra
        domain = capability.domain
        author = _user(ASSIGNMENTS[domain][0])
        services.record_capability(
            author,
            cycle,
            number,
            current_level=current,
            target_level=target,
            criteria_met=met,
            confidence=confidence,
            stakeholder=STAKEHOLDERS[number],
        )


def _assign(cycle, coordinator):
    for domain, names in ASSIGNMENTS.items():
        services.assign_domain(
            coordinator,
            cycle,
            domain,
            contributors=[_user(n) for n in names],
            weight=WEIGHTS.get(domain, 1.0),
        )


def _sign_off(cycle, coordinator, second) -> None:
    services.transition(coordinator, cycle, Cycle.State.IN_REVIEW)
    services.transition(
        coordinator, cycle, Cycle.State.AWAITING_COUNTERSIGNATURE, seen_digest=signoff.records_digest(cycle)
    )
    cycle.refresh_from_db()
    services.transition(second, cycle, Cycle.State.SIGNED_OFF, seen_digest=cycle.content_sha256)


def results_package(country: str, levels: dict, key: Ed25519PrivateKey, year: int) -> bytes:
    """Signed results of ``country``'s cycle of ``year - 1`` (capability -> (current, target)), as its
    own OpenMNR would export them."""
    fw = framework(VERSION)
    states = {n: CapabilityState(current, target) for n, (current, target) in levels.items()}
    signed_at = date(year, 2, 15)
    plan = action_plan(fw, states, start=signed_at)
    capabilities = [
        {
            "number": c.number,
            "name": c.name,
            "domain": c.domain,
            "assessed": True,
            "current_level": states[c.number].current,
            "target_level": states[c.number].target,
            "confidence": "medium",
            "criteria_met": [x.id for x in c.criteria if x.level <= states[c.number].current],
            "evidence_items": 0,
            "live_indicators": [],
        }
        for c in fw.capabilities
        if c.number in states
    ]
    content = json.dumps(capabilities, sort_keys=True).encode()
    data = {
        "country": country,
        "period_start": date(year - 1, 1, 1).isoformat(),
        "period_end": date(year - 1, 12, 31).isoformat(),
        "framework": {"version": fw.version, "digest": fw.digest},
        "levels": [{"level": lv.number, "name": lv.name} for lv in fw.levels],
        "signed_off": {
            "at": f"{signed_at.isoformat()}T10:00:00+00:00",
            "content_sha256": hashlib.sha256(content).hexdigest(),
        },
        "capabilities": capabilities,
        "plan": [
            {"capability": a.capability, "to_level": a.to_level, "wave": a.wave, "due": a.due.isoformat()}
            for a in plan.actions
        ],
        "evidence_included": False,
    }
    return signed.write_results(data, key)


def _neighbour(year: int) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    results.set_peer_key(_user(ADMINISTRATOR), NEIGHBOUR, pem)
    results.import_results(_user(COORDINATOR), results_package(NEIGHBOUR, NEIGHBOUR_LEVELS, key, year))


def load(out) -> None:
    needed = {
        COORDINATOR,
        SECOND_COORDINATOR,
        ADMINISTRATOR,
        *(n for names in ASSIGNMENTS.values() for n in names),
    }
    missing = sorted(n for n in needed if _user(n) is None)
    if missing:
        out.write(f"Assessment demo skipped: demo users missing ({', '.join(missing)}).\n")
        return
    if Cycle.objects.filter(country=COUNTRY).exists():
        return
    coordinator, second = _user(COORDINATOR), _user(SECOND_COORDINATOR)
    year = timezone.localdate().year
    with transaction.atomic():
        previous = services.open_cycle(
            coordinator,
            country=COUNTRY,
            period_start=date(year - 1, 1, 1),
            period_end=date(year - 1, 12, 31),
            framework_version=VERSION,
        )
        _assign(previous, coordinator)
        _record(previous, PREVIOUS)
        _sign_off(previous, coordinator, second)

        current = services.open_cycle(
            coordinator,
            country=COUNTRY,
            period_start=date(year, 1, 1),
            period_end=date(year, 12, 31),
            framework_version=VERSION,
        )
        _assign(current, coordinator)
        _record(current, CURRENT)
        for number, kind, title, criterion, text in EVIDENCE:
            author = _user(ASSIGNMENTS[framework(VERSION).capability(number).domain][0])
            services.add_evidence(
                author,
                current,
                number,
                kind=kind,
                title=title,
                criterion=criterion,
                url=text if kind == "link" else "",
                note=text if kind == "note" else "",
            )
        services.add_comment(
            coordinator,
            current,
            "Legislation is the bottleneck this year: the grooming offence unblocks the hotline and takedown.",
            capability=3,
        )
        _neighbour(year)
    out.write(
        f"Assessment demo: {COUNTRY}, {year - 1} cycle signed by {COORDINATOR} and countersigned by "
        f"{SECOND_COORDINATOR}, {year} cycle open as a draft; {NEIGHBOUR}'s signed results imported for "
        "the regional comparison.\n"
    )
