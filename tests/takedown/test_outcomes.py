"""Removal outcomes told apart: a 404/410 or media no longer shown while the host answers is
removed, a name gone from DNS is unavailable (not a host's removal), a host that acknowledged is
removed; the statistics count each with its own removal time."""

import dataclasses
from datetime import timedelta

import pytest

from openmnr.core.hosting.cdn import CdnCatalog
from openmnr.core.hosting.dns import StaticResolver
from openmnr.core.hosting.trace import Tracer
from openmnr.core.takedown.schedule import Check
from openmnr.takedown import services
from openmnr.takedown.delivery import Delivery
from openmnr.takedown.models import EventKind, TakedownCase
from openmnr.takedown.services.outcomes import removal_outcome, removal_times_by_outcome

pytestmark = pytest.mark.django_db


class HomeHost:
    def trace(self, hostname):
        trace = Tracer(StaticResolver({}), CdnCatalog.load()).trace(hostname)
        return dataclasses.replace(
            trace, asn=64500, org="Example", country="PT", abuse_contacts=("a@host.test",)
        )


def run_until_removed(case, tools, always, clock, outcome: str) -> TakedownCase:
    """Notice the host at once (known material), then let every check answer `outcome`."""
    answers = tools(tracer=HomeHost(), check=always("online"), deliver=lambda message: Delivery(True))
    services.tick(clock.now, tools=answers)
    answers = dataclasses.replace(answers, check=always(outcome))
    for _ in range(40):
        services.tick(clock.advance(minutes=30), tools=answers)
        takedown = TakedownCase.objects.get(pk=case.pk)
        if takedown.status == "removed":
            return takedown
    raise AssertionError(f"never confirmed removed: {takedown.status}")


@pytest.mark.parametrize(
    ("check", "expected"),
    [("gone", "removed"), ("no_match", "removed"), ("dns_failure", "unavailable")],
)
def test_each_removal_outcome(assessed_case, tools, always, clock, check, expected):
    case = assessed_case("https://203.0.113.7/page", known=True)
    takedown = run_until_removed(case, tools, always, clock, check)
    assert takedown.removal_outcome == expected
    removed = takedown.events.get(kind=EventKind.REMOVED)
    assert removed.detail["outcome"] == expected
    assert removed.text.startswith("removed since" if expected == "removed" else "unavailable")


def test_a_host_that_acknowledged_removed_it_even_if_its_name_is_gone_later():
    assert removal_outcome(Check.DNS_FAILURE, host_acknowledged=True) == "removed"
    assert removal_outcome(Check.DNS_FAILURE, host_acknowledged=False) == "unavailable"
    assert removal_outcome(Check.GONE, host_acknowledged=False) == "removed"


def test_removal_times_are_counted_per_outcome(assessed_case):
    from django.utils import timezone

    now = timezone.now()
    made = []
    for number, (outcome, hours) in enumerate(
        [("removed", 2), ("removed", 6), ("unavailable", 30), ("", 10), (None, None)]
    ):
        case = assessed_case(f"https://203.0.113.{number + 20}/page")
        takedown = TakedownCase.objects.create(
            case_id=case.pk, schedule={}, opened_at=case.opened_at, removal_outcome=outcome or ""
        )
        if hours is not None:
            takedown.removed_at = case.opened_at + timedelta(hours=hours)
        if number == 0:
            takedown.moved_at = now
        takedown.save()
        made.append(takedown)
    rows = {row["outcome"]: (row["cases"], row["median_hours"]) for row in removal_times_by_outcome()}
    assert rows == {
        "removed": (2, 4.0),
        "unavailable": (1, 30.0),
        "not_recorded": (1, 10.0),  # confirmed before outcomes were recorded: never guessed
        "moved": (1, None),
    }
