"""Demo data for `make run`: the self-assessment of Examplestan, a fictional country.

Last year's cycle is signed off; this year's is an open draft that the demo national coordinator can
take through review to sign-off. This year's period includes today, so its live indicators show the
demo reports and takedowns the other apps' demos create. Everything is written through service.py, so the history and
the audit log look as they would after real use. Running it again changes nothing.
"""

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import service
from .frameworks import framework
from .models import Cycle

COUNTRY = "Examplestan"
VERSION = "mnr-2016"

# Who assesses which domain (demo usernames created by web/demo.py).
COORDINATOR = "national-coordinator"
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


def _user(name):
    return get_user_model().objects.filter(username=name).first()


def _record(cycle, table):
    fw = framework(VERSION)
    for number, (current, target, confidence, extra) in table.items():
        capability = fw.capability(number)
        met = [c.id for c in capability.criteria if c.level <= current] + extra
        domain = capability.domain
        author = _user(ASSIGNMENTS[domain][0])
        service.record_capability(
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
        service.assign_domain(
            coordinator,
            cycle,
            domain,
            contributors=[_user(n) for n in names],
            weight=WEIGHTS.get(domain, 1.0),
        )


def load(out) -> None:
    needed = {COORDINATOR, *(n for names in ASSIGNMENTS.values() for n in names)}
    missing = sorted(n for n in needed if _user(n) is None)
    if missing:
        out.write(f"Assessment demo skipped: demo users missing ({', '.join(missing)}).\n")
        return
    if Cycle.objects.filter(country=COUNTRY).exists():
        return
    coordinator = _user(COORDINATOR)
    year = timezone.localdate().year
    with transaction.atomic():
        previous = service.open_cycle(
            coordinator,
            country=COUNTRY,
            period_start=date(year - 1, 1, 1),
            period_end=date(year - 1, 12, 31),
            framework_version=VERSION,
        )
        _assign(previous, coordinator)
        _record(previous, PREVIOUS)
        service.transition(coordinator, previous, Cycle.State.IN_REVIEW)
        service.transition(coordinator, previous, Cycle.State.SIGNED_OFF)

        current = service.open_cycle(
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
            service.add_evidence(
                author,
                current,
                number,
                kind=kind,
                title=title,
                criterion=criterion,
                url=text if kind == "link" else "",
                note=text if kind == "note" else "",
            )
        service.add_comment(
            coordinator,
            current,
            "Legislation is the bottleneck this year: the grooming offence unblocks the hotline and takedown.",
            capability=3,
        )
    out.write(
        f"Assessment demo: {COUNTRY}, {year - 1} cycle signed off, {year} cycle open as a draft "
        f"(coordinator: {COORDINATOR}).\n"
    )
