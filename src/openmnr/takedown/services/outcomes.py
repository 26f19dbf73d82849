"""Removal outcomes told apart, as ICCAM does: removed, unavailable, moved.

A confirmed removal used to be one thing whatever the checks saw. Hotlines report (and INHOPE
counts) three different endings, and they mean different work:

- removed: the host confirmed the removal (it acknowledged a notice), or the content is gone while
  the host still answers (404 or 410, or the page no longer shows the media);
- unavailable: the host answers no more (its name is gone from DNS). Nobody removed anything, and
  the content may come back elsewhere, so it is not counted as a host's removal;
- moved: the content was found hosted elsewhere (a new trace whose host changed). The case goes on
  (it is re-routed and the new host is noticed), and the move is recorded on the case and as a
  "moved" event on its timeline; it is a step, not an ending, so a moved case still ends removed or
  unavailable.

The outcome is decided from the check that confirms the removal (the schedule confirms after
several misses; the last one says what the host does now). A takedown confirmed before outcomes
were recorded keeps an empty outcome: "not recorded", never a guess.
"""

from statistics import median

from openmnr.core.takedown.schedule import Check

from ..models import RemovalOutcome, TakedownCase


def removal_outcome(confirming_check: Check, *, host_acknowledged: bool) -> str:
    """The outcome of a confirmed removal, from the check that confirmed it."""
    if host_acknowledged:
        return RemovalOutcome.REMOVED
    if confirming_check == Check.DNS_FAILURE:
        return RemovalOutcome.UNAVAILABLE
    return RemovalOutcome.REMOVED


def _takedowns(case_ids):
    found = TakedownCase.objects.all()
    return found if case_ids is None else found.filter(case_id__in=list(case_ids))


def hosting_countries(case_ids=None) -> dict[str, int]:
    """{country code ("" not traced): number of cases} for the takedowns of `case_ids` (all)."""
    counts: dict[str, int] = {}
    for country in _takedowns(case_ids).values_list("hosting_country", flat=True):
        counts[country or ""] = counts.get(country or "", 0) + 1
    return counts


def removal_times_by_outcome(case_ids=None) -> list[dict]:
    """For each outcome (and "not recorded"): how many cases ended so, and the median hours from
    the report to the removal; with the number of cases that moved at least once. Cases of
    `case_ids` only, when given."""
    takedowns = _takedowns(case_ids)
    rows = []
    ended = takedowns.exclude(removed_at=None).select_related("case")
    for code, label in [*RemovalOutcome.choices, ("", "not recorded")]:
        hours = [
            (t.removed_at - t.case.opened_at).total_seconds() / 3600
            for t in ended
            if t.removal_outcome == code
        ]
        if code == "" and not hours:
            continue
        rows.append(
            {
                "outcome": code or "not_recorded",
                "label": str(label),
                "cases": len(hours),
                "median_hours": round(median(hours), 1) if hours else None,
            }
        )
    rows.append(
        {
            "outcome": "moved",
            "label": "moved (found hosted elsewhere at least once)",
            "cases": takedowns.exclude(moved_at=None).count(),
            "median_hours": None,
        }
    )
    return rows
