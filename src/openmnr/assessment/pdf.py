"""The PDF report of a cycle (reportlab): cover, an executive summary a minister reads in one page
(where the country stands, the five most important next steps with their prerequisites, what the
platform's own data shows), the summary, a chart per domain, findings per capability and the action
plan. A cycle that is not signed off says so on every page; a signed-off one carries the names of its
two signatories and the SHA-256 of the content they signed.

Text goes through reportlab's built-in Helvetica, which covers Latin-1; that is enough for the
framework and for most country and stakeholder names.
"""

import io
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .analysis import Assessment, describe_needs
from .exports import FAILED, NO_DATA

# The same sequence as assessment.css: level 0 pale grey to level 4 dark blue.
LEVEL_COLOURS = {
    0: colors.HexColor("#eeeeee"),
    1: colors.HexColor("#c6dbef"),
    2: colors.HexColor("#6baed6"),
    3: colors.HexColor("#2171b5"),
    4: colors.HexColor("#08306b"),
}
LEVEL_WIDTH = 28 * mm
LABEL_HEIGHT = 11
BAR_HEIGHT = 9
ROW_HEIGHT = 26

_styles = getSampleStyleSheet()
H1, H2, H3, BODY = _styles["Title"], _styles["Heading2"], _styles["Heading3"], _styles["BodyText"]
SMALL = _styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)


def _p(text: str, style=BODY) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(rows, widths, header=True) -> Table:
    table = Table(
        [[_p(cell, SMALL) if not isinstance(cell, Paragraph) else cell for cell in row] for row in rows],
        colWidths=widths,
        repeatRows=1 if header else 0,
    )
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d7de")),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f6f8fa")))
    table.setStyle(TableStyle(style))
    return table


def _domain_drawing(view, level_name) -> Drawing:
    rows = view.rows
    height = len(rows) * ROW_HEIGHT + 24
    drawing = Drawing(170 * mm, height)
    x0 = 4
    base = 24  # room for the axis at the bottom
    for level in range(5):
        x = x0 + level * LEVEL_WIDTH
        drawing.add(Line(x, base, x, height, strokeColor=colors.HexColor("#d0d7de"), strokeWidth=0.5))
        drawing.add(String(x, 12, str(level), fontSize=7, textAnchor="middle"))
        drawing.add(String(x, 3, level_name(level), fontSize=6, textAnchor="middle"))
    for i, row in enumerate(rows):
        top = height - i * ROW_HEIGHT
        drawing.add(String(x0, top - LABEL_HEIGHT, f"{row.number} {row.name}", fontSize=7.5))
        bar_y = top - LABEL_HEIGHT - 3 - BAR_HEIGHT
        drawing.add(
            Rect(x0, bar_y, 4 * LEVEL_WIDTH, BAR_HEIGHT, fillColor=LEVEL_COLOURS[0], strokeColor=None)
        )
        if row.current:
            drawing.add(
                Rect(
                    x0,
                    bar_y,
                    row.current * LEVEL_WIDTH,
                    BAR_HEIGHT,
                    fillColor=LEVEL_COLOURS[row.current],
                    strokeColor=None,
                )
            )
        tx = x0 + row.target * LEVEL_WIDTH
        drawing.add(Line(tx, bar_y - 3, tx, bar_y + BAR_HEIGHT + 3, strokeColor=colors.black, strokeWidth=2))
        if row.previous is not None:
            drawing.add(
                Circle(
                    x0 + row.previous * LEVEL_WIDTH,
                    bar_y + BAR_HEIGHT / 2,
                    3,
                    fillColor=colors.white,
                    strokeColor=colors.black,
                )
            )
        summary = f"now {row.current}, target {row.target}"
        if row.previous is not None:
            summary += f", was {row.previous}"
        drawing.add(String(x0 + 4 * LEVEL_WIDTH + 8, bar_y + 1, summary, fontSize=7))
    return drawing


def _live_text(figure) -> str:
    if figure.failed:
        return f"{figure.indicator.text}: {FAILED}"
    if figure.value is None:
        return f"{figure.indicator.text}: {NO_DATA}"
    value = figure.value
    shown = value.note if value.value is None else f"{value.value:g} {figure.indicator.unit}"
    when = "when the cycle was signed" if figure.frozen else "when this report was made"
    return (
        f"{figure.indicator.text}: {shown} ({value.period[0]} to {value.period[1]}, computed "
        f"{value.computed_at:%Y-%m-%d %H:%M} UTC {when})"
    )


def _signature_lines(signatures) -> list[str]:
    if not signatures or not signatures.get("signed_by"):
        return []
    lines = [f"Signed by {signatures['signed_by']} on {signatures['signed_at']:%Y-%m-%d %H:%M} UTC."]
    if signatures.get("countersigned_by"):
        lines.append(
            f"Countersigned by {signatures['countersigned_by']} on "
            f"{signatures['countersigned_at']:%Y-%m-%d %H:%M} UTC."
        )
    else:
        lines.append("Not countersigned yet.")
    lines.append(f"SHA-256 of the signed content: {signatures['content_sha256']}")
    return lines


def _executive_summary(assessment: Assessment) -> list:
    """One page: where the country stands, the five most important next steps, what the data shows."""
    framework = assessment.framework
    level_name = assessment.level_name
    story = [_p("Executive summary", H2), _p("Where we stand", H3)]
    counts = ", ".join(
        f"{count} at {n} {level_name(n)}" for n, count in assessment.level_counts.items() if count
    )
    story.append(
        _p(
            f"{assessment.assessed_count} of {len(assessment.rows)} capabilities assessed; "
            f"{assessment.at_target_count} at or above their target. Levels now: {counts}. "
            f"{assessment.total_gap} level(s) to go to reach the targets; "
            f"{len(assessment.blocked_rows)} capabilities wait for a prerequisite."
        )
    )
    if assessment.previous is not None:
        rose = sum(1 for r in assessment.rows if r.change is not None and r.change > 0)
        fell = sum(1 for r in assessment.rows if r.change is not None and r.change < 0)
        story.append(_p(f"Since the previous signed-off cycle: {rose} capabilities rose, {fell} fell."))
    story.append(_p("The five most important next steps", H3))
    steps = assessment.next_steps(5)
    if steps:
        rows = [["#", "Step", "Due, owner", "Prerequisites", "First thing to do"]]
        for i, a in enumerate(steps, 1):
            needs = [describe_needs(b, framework) + ("; advice only, not in this plan" if b in a.not_planned else "")
                     for b in a.blocked_by]  # fmt: skip
            rows.append(
                [
                    str(i),
                    f"{a.capability} {framework.capability(a.capability).name}: "
                    f"{level_name(a.from_level)} to {level_name(a.to_level)}",
                    f"{a.due.isoformat()}, {a.owner or 'owner not named'}",
                    "; ".join(needs) or "none: it can start now",
                    f"{a.criteria[0].id} {a.criteria[0].text}" if a.criteria else "criteria already met",
                ]
            )
        story.append(_table(rows, [7 * mm, 43 * mm, 30 * mm, 42 * mm, 48 * mm]))
    else:
        story.append(_p("No next step: every capability is at or above its target."))
    story.append(_p("What the platform's own data shows", H3))
    figures = [figure for row in assessment.rows for figure in row.live]
    shown = [f for f in figures if f.value is not None]
    if shown:
        story.append(
            _table(
                [["Indicator", "Figure"]] + [[f.indicator.text, _figure(f)] for f in shown],
                [100 * mm, 70 * mm],
            )
        )
    missing = [f.indicator.text for f in figures if f.value is None]
    if missing:
        story.append(_p(f"{NO_DATA[0].upper()}{NO_DATA[1:]} for: {'; '.join(missing)}.", SMALL))
    return story


UNITS = {"count": "", "percent": "%", "hours": " hours"}


def _figure(figure) -> str:
    value = figure.value
    unit = UNITS.get(figure.indicator.unit, f" {figure.indicator.unit}")
    shown = value.note if value.value is None else f"{value.value:g}{unit}"
    return f"{shown} ({value.period[0]} to {value.period[1]})"


def render(assessment: Assessment, *, signatures: dict | None = None) -> bytes:
    cycle, framework, plan = assessment.cycle, assessment.framework, assessment.plan
    level_name = assessment.level_name
    signed = cycle.signed_off_at is not None
    status = (
        f"Signed off on {cycle.signed_off_at:%Y-%m-%d}"
        if signed
        else f"{cycle.get_state_display()}, not signed off"
    )
    story = [
        Spacer(1, 40 * mm),
        _p("MNR self-assessment", H1),
        _p(cycle.country, H1),
        Spacer(1, 10 * mm),
        _p(f"Period: {cycle.period_start:%Y-%m-%d} to {cycle.period_end:%Y-%m-%d}"),
        _p(f"Framework: {framework.title} ({framework.version})"),
        _p(status),
        *[_p(line) for line in _signature_lines(signatures)],
        _p(f"Report made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by OpenMNR"),
        Spacer(1, 10 * mm),
        _p(
            "This report shows one country's own assessment against the WeProtect Global Alliance's Model "
            "National Response. It does not rank or compare countries. Level names follow the WeProtect/UNICEF "
            "Maturity Model where it names its phases (building, maturity); the others are OpenMNR's own.",
            SMALL,
        ),
        PageBreak(),
        *_executive_summary(assessment),
        PageBreak(),
    ]

    # Summary
    improved = sum(1 for r in assessment.rows if r.change is not None and r.change > 0)
    declined = sum(1 for r in assessment.rows if r.change is not None and r.change < 0)
    story += [
        _p("Summary", H2),
        _p(f"Capabilities assessed: {assessment.assessed_count} of {len(assessment.rows)}."),
        _p(
            f"Total gap to target: {assessment.total_gap} level(s). Blocked capabilities: "
            f"{len(assessment.blocked_rows)}. Actions in the plan: {len(plan.actions)}. "
            f"Held until a target is raised: {len({b.capability for b in plan.held})}."
        ),
    ]
    if assessment.previous is not None:
        prev = assessment.previous
        story.append(
            _p(
                f"Since the previous signed-off cycle ({prev.period_start:%Y-%m-%d} to "
                f"{prev.period_end:%Y-%m-%d}): {improved} capabilities rose, {declined} fell."
            )
        )
    story.append(
        _table(
            [["Level", "Capabilities at this level"]]
            + [[f"{n} {level_name(n)}", str(c)] for n, c in assessment.level_counts.items()],
            [60 * mm, 60 * mm],
        )
    )

    # Charts
    story += [PageBreak(), _p("Current level against target, by domain", H2)]
    story.append(
        _p(
            "Bars show the current level, the black line the target, the circle the level in the previous "
            "signed-off cycle.",
            SMALL,
        )
    )
    for view in assessment.domains:
        story.append(KeepTogether([_p(view.domain.name, H3), _domain_drawing(view, level_name)]))

    # Findings
    story += [PageBreak(), _p("Findings per capability", H2)]
    for row in assessment.rows:
        facts = [
            ["Current level", f"{row.current} {level_name(row.current)}"],
            ["Target level", f"{row.target} {level_name(row.target)} (gap {row.gap})"],
            ["Criteria met", ", ".join(row.criteria_met) or "none"],
            ["Confidence", row.confidence or "not given"],
            ["Responsible stakeholder", row.stakeholder or "not named"],
        ]
        if row.criteria_level != row.current:
            facts.append(["Note", f"The criteria met support level {row.criteria_level}."])
        if row.previous is not None:
            facts.append(["Previous cycle", f"{row.previous} {level_name(row.previous)}"])
        if row.blocks:
            facts.append(
                [
                    "Waits for",
                    "; ".join(f"level {b.for_level}: {describe_needs(b, framework)}" for b in row.blocks),
                ]
            )
        for b in row.ahead:
            facts.append(["Ahead of advice", f"level {b.for_level} without {describe_needs(b, framework)}"])
        for figure in row.live:
            facts.append(["Live indicator", _live_text(figure)])
        for item in row.evidence:
            facts.append(["Evidence", f"{item.get_kind_display()}: {item.title}"])
        if not row.assessed:
            facts.append(["Status", "not assessed yet"])
        story.append(
            KeepTogether(
                [
                    _p(f"{row.number} {row.name} ({row.domain.name})", H3),
                    _table(facts, [45 * mm, 125 * mm], header=False),
                ]
            )
        )

    # Plan
    story += [PageBreak(), _p("Action plan", H2)]
    story.append(
        _p(
            "Prerequisites first, in waves of one level per capability; within a wave by score (threat "
            "weight x (gap + capabilities unblocked)). Each action names the next unmet criteria.",
            SMALL,
        )
    )
    plan_rows = [["Due", "Capability", "Step", "Owner", "Waits for", "Next criteria"]]
    for a in plan.actions:
        plan_rows.append(
            [
                a.due.isoformat(),
                f"{a.capability} {framework.capability(a.capability).name}",
                f"{a.from_level} -> {a.to_level}",
                a.owner or "not named",
                "; ".join(
                    describe_needs(b, framework) + (" (advice only)" if b in a.not_planned else "")
                    for b in a.blocked_by
                )
                or "-",
                "; ".join(f"{c.id} {c.text}" for c in a.criteria) or "criteria already met",
            ]
        )
    if plan.actions:
        story.append(_table(plan_rows, [18 * mm, 30 * mm, 12 * mm, 26 * mm, 34 * mm, 50 * mm]))
    else:
        story.append(_p("No actions: every capability is at or above its target."))
    for b in plan.held:
        story.append(
            _p(
                f"Held: {b.capability} {framework.capability(b.capability).name} level {b.for_level} needs "
                f"{describe_needs(b, framework, now=False)}, which the MNR makes essential."
            )
        )

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        footer = f"{cycle.country} MNR self-assessment: {status}"
        if signed and cycle.content_sha256:
            footer += f" - content SHA-256 {cycle.content_sha256[:16]}..."
        canvas.drawString(15 * mm, 10 * mm, footer)
        canvas.drawRightString(195 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"MNR self-assessment: {cycle.country}",
        author="OpenMNR",
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
