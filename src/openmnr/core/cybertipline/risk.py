"""The order in which law enforcement should read industry reports, and why.

Police receive far more industry reports than they can read, so the queue puts first the reports
where a child may be at risk now, and the reasons are shown on every report so that an officer can
see why one is above another (and disagree). The order is lexicographic, most important first:

1. the provider escalated the report (``escalateToHighPriority``: "immediate risk to a child");
2. at least one file matches nothing in the banks: new material, made recently or never seen, so a
   child possibly still being abused; reports of known material only come after every report with
   new material, however many known files they hold;
3. a victim in our country (an estimated location, an address, a phone country code or an IP
   address placed there);
4. the reported person in our country (same sources);
5. more new files first; then more prior reports of the same account (here, or listed by the
   provider as earlier CyberTipline reports); then more files.

Ties keep arrival order (oldest first), which the caller sorts by. ``score`` packs the tiers into one
integer so a database index can order millions of reports without computing anything at read time;
each count is capped at 999 within its tier, so a tier never spills into the one above.
"""

from dataclasses import dataclass

_CAP = 999


@dataclass(frozen=True)
class RiskInput:
    escalate: str = ""  # the provider's reason, "" when not escalated
    new_files: int = 0  # files that match nothing in the banks
    known_files: int = 0  # files that match confirmed material
    victim_home: tuple[str, ...] = ()  # how a victim is placed in our country ("phone", ...)
    reported_home: tuple[str, ...] = ()  # how the reported person is placed in our country
    prior_reports: int = 0
    home_country: str = ""


@dataclass(frozen=True)
class Risk:
    score: int
    reasons: tuple[str, ...]


def _capped(value: int) -> int:
    return max(0, min(int(value), _CAP))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def assess(facts: RiskInput) -> Risk:
    """The report's place in the queue (higher first) and the reasons, in the order they count."""
    tiers = [
        bool(facts.escalate),
        facts.new_files > 0,
        bool(facts.victim_home),
        bool(facts.reported_home),
    ]
    counts = [facts.new_files, facts.prior_reports, facts.new_files + facts.known_files]
    score = 0
    for flag in tiers:
        score = score * 2 + int(flag)
    for count in counts:
        score = score * (_CAP + 1) + _capped(count)

    reasons = []
    if facts.escalate:
        reasons.append(f"Escalated by the provider: {facts.escalate[:200]}")
    total = facts.new_files + facts.known_files
    if facts.new_files:
        reasons.append(
            f"{_plural(facts.new_files, 'file')} of {total} match nothing in the banks: new material, "
            "a child possibly still being abused"
        )
    elif total:
        reasons.append(f"All {_plural(total, 'file')} are known material (no human view needed)")
    else:
        reasons.append("No files")
    country = facts.home_country or "our country"
    if facts.victim_home:
        reasons.append(f"A victim in {country} ({', '.join(sorted(set(facts.victim_home)))})")
    if facts.reported_home:
        reasons.append(f"The reported person in {country} ({', '.join(sorted(set(facts.reported_home)))})")
    if facts.prior_reports:
        reasons.append(f"{_plural(facts.prior_reports, 'prior report')} of the same account")
    return Risk(score, tuple(reasons))
