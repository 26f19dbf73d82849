"""CSV and JSON exports of one cycle: the country's own assessment, never a comparison with others.

Exports name organisations (the responsible stakeholders), not the staff who filled the assessment
in. The CSV has one row per capability; the JSON holds everything, including the plan.
"""

import csv
import io
import json
from datetime import UTC, datetime

from .analysis import Assessment, LiveFigure

NO_DATA = "no data from the platform yet"
FAILED = "could not be computed (see the server log)"

CSV_COLUMNS = [
    "country",
    "period_start",
    "period_end",
    "framework_version",
    "state",
    "capability",
    "name",
    "domain",
    "current_level",
    "current_level_name",
    "target_level",
    "gap",
    "criteria_met",
    "level_supported_by_criteria",
    "confidence",
    "stakeholder",
    "blocked_by",
    "previous_level",
    "evidence_items",
    "next_action",
]


def live_status(figure: LiveFigure) -> str:
    if figure.failed:
        return "failed"
    return "no_data" if figure.value is None else "value"


def _blocked_by(row) -> str:
    return "; ".join(
        f"level {b.for_level} needs "
        + " or ".join(
            f"{n} at level {needed} (is at {level})"
            for (n, needed), level in zip(b.needs, b.levels, strict=True)
        )
        for b in row.blocks
    )


def block_data(block) -> dict:
    return {
        "for_level": block.for_level,
        "hard": block.hard,
        "any_of": [
            {"capability": n, "level": needed, "is_at": level}
            for (n, needed), level in zip(block.needs, block.levels, strict=True)
        ],
    }


def _next_action(assessment: Assessment, number: int) -> str:
    for action in assessment.plan.actions:
        if action.capability == number:
            return f"{action.from_level}->{action.to_level} by {action.due.isoformat()}"
    return ""


def _cell(value):
    """Spreadsheets run a cell that starts with = + - @ as a formula; text typed by users (the
    stakeholder) could start that way, so such text gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(assessment: Assessment) -> str:
    cycle = assessment.cycle
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in assessment.rows:
        values = [
            cycle.country,
            cycle.period_start.isoformat(),
            cycle.period_end.isoformat(),
            cycle.framework_version,
            cycle.get_state_display(),
            row.number,
            row.name,
            row.domain.name,
            row.current,
            assessment.level_name(row.current),
            row.target,
            row.gap,
            " ".join(row.criteria_met),
            row.criteria_level,
            row.confidence,
            row.stakeholder,
            _blocked_by(row),
            "" if row.previous is None else row.previous,
            len(row.evidence),
            _next_action(assessment, row.number),
        ]
        writer.writerow([_cell(v) for v in values])
    return out.getvalue()


def _live(figure: LiveFigure) -> dict:
    value = figure.value
    return {
        "key": figure.indicator.key,
        "text": figure.indicator.text,
        "status": live_status(figure),
        "value": value.value if value else None,
        "unit": figure.indicator.unit,
        "note": value.note if value else (FAILED if figure.failed else NO_DATA),
        "period_start": value.period[0].isoformat() if value else None,
        "period_end": value.period[1].isoformat() if value else None,
        "computed_at": value.computed_at.isoformat() if value else None,
        "source_url": value.source_url if value else "",
        "frozen_at_sign_off": figure.frozen,
    }


def _evidence(item) -> dict:
    data = {"kind": item.kind, "title": item.title, "criterion": item.criterion or None}
    if item.kind == "link":
        data["url"] = item.url
    elif item.kind == "note":
        data["note"] = item.note
    else:
        data.update(content_type=item.content_type, size=item.size, sha256=item.sha256)
    return data


def to_json_data(assessment: Assessment) -> dict:
    cycle, plan = assessment.cycle, assessment.plan
    return {
        "format": "openmnr-assessment/1",
        "generated_at": datetime.now(UTC).isoformat(),
        "cycle": {
            "country": cycle.country,
            "period_start": cycle.period_start.isoformat(),
            "period_end": cycle.period_end.isoformat(),
            "framework_version": cycle.framework_version,
            "state": cycle.state,
            "signed_off_at": cycle.signed_off_at.isoformat() if cycle.signed_off_at else None,
            "content_sha256": cycle.content_sha256 or None,
            "framework_digest": cycle.framework_digest or assessment.framework.digest,
            "previous_cycle": (
                {
                    "period_start": assessment.previous.period_start.isoformat(),
                    "period_end": assessment.previous.period_end.isoformat(),
                }
                if assessment.previous
                else None
            ),
        },
        "domains": [
            {"id": d.domain.id, "name": d.domain.name, "outcome": d.domain.outcome, "threat_weight": d.weight}
            for d in assessment.domains
        ],
        "capabilities": [
            {
                "number": row.number,
                "name": row.name,
                "domain": row.domain.id,
                "assessed": row.assessed,
                "current_level": row.current,
                "target_level": row.target,
                "gap": row.gap,
                "criteria_met": list(row.criteria_met),
                "level_supported_by_criteria": row.criteria_level,
                "confidence": row.confidence.lower() or None,
                "stakeholder": row.stakeholder,
                "blocked_by": [block_data(b) for b in row.blocks],
                "ahead_of_prerequisites": [block_data(b) for b in row.ahead],
                "previous_level": row.previous,
                "evidence": [_evidence(item) for item in row.evidence],
                "live_indicators": [_live(figure) for figure in row.live],
            }
            for row in assessment.rows
        ],
        "plan": {
            "start": plan.start.isoformat(),
            "period_days": plan.period_days,
            "actions": [
                {
                    "capability": a.capability,
                    "from_level": a.from_level,
                    "to_level": a.to_level,
                    "wave": a.wave,
                    "due": a.due.isoformat(),
                    "owner": a.owner,
                    "score": a.score,
                    "next_criteria": [{"id": c.id, "text": c.text} for c in a.criteria],
                    "unblocks": list(a.unblocks),
                    "waits_for": [{"capability": n, "level": level} for n, level in a.waits_for],
                    "blocked_by": [block_data(b) for b in a.blocked_by],
                    "not_planned": [block_data(b) for b in a.not_planned],
                }
                for a in plan.actions
            ],
            "held": [block_data(b) | {"capability": b.capability} for b in plan.held],
        },
    }


def to_json(assessment: Assessment) -> str:
    return json.dumps(to_json_data(assessment), indent=2, ensure_ascii=False)
