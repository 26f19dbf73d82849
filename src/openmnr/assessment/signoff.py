"""What a signature covers: the content of a cycle in canonical form, its SHA-256, and the list a
coordinator reads on the confirmation page before signing.

The hash is over everything the cycle records (country, period, framework version and the digest of
its file, domain weights and contributors, each capability's levels, criteria met, confidence and
stakeholder, every piece of evidence with the SHA-256 of its document) and, once they are frozen, the
live indicators. Two coordinators sign the same hash: the first when it is fixed, the second when
countersigning; anyone can recompute it later (``verify``) and see that nothing changed.

``records_digest`` is the same without the live indicators: the confirmation page carries it, so a
signature is refused when what is recorded changed between reading the page and signing. Live figures
move on their own while the page is open, so they are not part of that check; they are frozen, and
enter the hash, at the moment of signing.
"""

import hashlib
import json
from dataclasses import dataclass

from . import indicators
from .access import display_name
from .frameworks import framework_of
from .models import Cycle, Evidence

FORMAT = "openmnr-cycle-content/1"


def content(cycle: Cycle, *, live: bool = True) -> dict:
    """The cycle's content as plain JSON data, in a fixed order."""
    framework = framework_of(cycle)
    data = {
        "format": FORMAT,
        "cycle": {
            "country": cycle.country,
            "period_start": cycle.period_start.isoformat(),
            "period_end": cycle.period_end.isoformat(),
            "framework_version": cycle.framework_version,
            "framework_digest": cycle.framework_digest or framework.digest,
        },
        "domains": [
            {
                "id": row.domain,
                "weight": row.weight,
                "contributors": sorted(u.get_username() for u in row.contributors.all()),
            }
            for row in cycle.domains.order_by("domain").prefetch_related("contributors")
        ],
        "capabilities": [
            {
                "number": row.capability,
                "assessed": row.assessed,
                "current_level": row.current_level,
                "target_level": row.target_level,
                "criteria_met": list(row.criteria_met),
                "confidence": row.confidence,
                "stakeholder": row.stakeholder,
            }
            for row in cycle.capabilities.order_by("capability")
        ],
        "evidence": [
            {
                "capability": item.assessment.capability,
                "kind": item.kind,
                "title": item.title,
                "criterion": item.criterion,
                "url": item.url,
                "note": item.note,
                "content_type": item.content_type,
                "size": item.size,
                "sha256": item.sha256,
            }
            for item in Evidence.objects.filter(assessment__cycle=cycle)
            .select_related("assessment")
            .order_by("assessment__capability", "pk")
        ],
    }
    if live:
        data["live_indicators"] = [
            {
                "key": snap.key,
                "value": snap.value,
                "unit": snap.unit,
                "note": snap.note,
                "period_start": snap.period_start.isoformat(),
                "period_end": snap.period_end.isoformat(),
                "computed_at": snap.computed_at.isoformat(),
            }
            for snap in cycle.live_snapshots.order_by("key")
        ]
    return data


def digest(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def records_digest(cycle: Cycle) -> str:
    return digest(content(cycle, live=False))


def content_digest(cycle: Cycle) -> str:
    return digest(content(cycle, live=True))


def verify(cycle: Cycle) -> bool | None:
    """Whether a signed cycle's content still hashes to what was signed (None before the first
    signature)."""
    if not cycle.content_sha256:
        return None
    return content_digest(cycle) == cycle.content_sha256


@dataclass(frozen=True)
class FrozenLine:
    """One line of the confirmation page: a capability and what will be frozen for it."""

    number: int
    name: str
    current: str
    target: str
    confidence: str
    criteria_met: int
    evidence: int
    assessed: bool


def frozen_lines(cycle: Cycle) -> list[FrozenLine]:
    framework = framework_of(cycle)
    evidence: dict[int, int] = {}
    for number in Evidence.objects.filter(assessment__cycle=cycle).values_list(
        "assessment__capability", flat=True
    ):
        evidence[number] = evidence.get(number, 0) + 1
    lines = []
    for row in cycle.capabilities.order_by("capability"):
        level, target = framework.level(row.current_level), framework.level(row.target_level)
        lines.append(
            FrozenLine(
                number=row.capability,
                name=framework.capability(row.capability).name,
                current=f"{level.number} {level.name}",
                target=f"{target.number} {target.name}",
                confidence=row.get_confidence_display() if row.confidence else "not given",
                criteria_met=len(row.criteria_met),
                evidence=evidence.get(row.capability, 0),
                assessed=row.assessed,
            )
        )
    return lines


def freeze_live_indicators(cycle: Cycle) -> None:
    """Store each live indicator's value as it is now; a provider with no data stores nothing, so the
    frozen report says "no data from the platform yet" for it, as the live page did."""
    from .models import LiveSnapshot

    cycle.live_snapshots.all().delete()
    for indicator in framework_of(cycle).live_indicators():
        try:
            value = indicators.compute(indicator.key, cycle.period_start, cycle.period_end)
        except indicators.ProviderFailed:
            value = None
        if value is None:
            continue
        LiveSnapshot.objects.create(
            cycle=cycle,
            key=indicator.key,
            value=value.value,
            unit=value.unit,
            note=value.note[:200],
            period_start=value.period[0],
            period_end=value.period[1],
            computed_at=value.computed_at,
            source_url=value.source_url[:500],
        )


def signatures(cycle) -> dict:
    """Who signed and countersigned, the hash, and whether the content and the framework file still
    match what was signed."""
    framework = framework_of(cycle)
    return {
        "signed_by": display_name(cycle.signed_by),
        "signed_at": cycle.signed_at,
        "countersigned_by": display_name(cycle.signed_off_by),
        "countersigned_at": cycle.signed_off_at,
        "content_sha256": cycle.content_sha256,
        "verified": verify(cycle),
        "framework_changed": bool(cycle.framework_digest) and cycle.framework_digest != framework.digest,
    }
