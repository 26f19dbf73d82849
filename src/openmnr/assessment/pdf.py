"""The PDF report of a cycle (reportlab): cover, summary, a chart per domain, findings per capability
and the action plan. A cycle that is not signed off says so on every page.

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

from .analysis import Assessment
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
    when = "at sign-off" if figure.frozen else "when this report was made"
    return (
        f"{figure.indicator.text}: {shown} ({value.period[0]} to {value.period[1]}, computed "
        f"{value.computed_at:%Y-%m-%d %H:%M} UTC {when})"
    )


def render(assessment: Assessment) -> bytes:
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
        _p(f"Report made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by OpenMNR"),
        Spacer(1, 10 * mm),
        _p(
            "This report shows one country's own assessment against the WeProtect Global Alliance's Model "
            "National Response. It does not rank or compare countries.",
            SMALL,
        ),
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
                    "Blocked by",
                    "; ".join(
                        f"{b.prerequisite} {framework.capability(b.prerequisite).name} "
                        f"(needs level {b.needed_level}, is at {b.level})"
                        for b in row.blocks
                    ),
                ]
            )
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
    plan_rows = [["Due", "Capability", "Step", "Owner", "Next criteria"]]
    for a in plan.actions:
        plan_rows.append(
            [
                a.due.isoformat(),
                f"{a.capability} {framework.capability(a.capability).name}",
                f"{a.from_level} -> {a.to_level}",
                a.owner or "not named",
                "; ".join(f"{c.id} {c.text}" for c in a.criteria) or "criteria already met",
            ]
        )
    if plan.actions:
        story.append(_table(plan_rows, [20 * mm, 38 * mm, 14 * mm, 32 * mm, 66 * mm]))
    else:
        story.append(_p("No actions: every capability is at or above its target."))
    for b in plan.held:
        story.append(
            _p(
                f"Held: {b.capability} {framework.capability(b.capability).name} needs "
                f"{b.prerequisite} {framework.capability(b.prerequisite).name} at level {b.needed_level}; "
                f"the plan takes it to {b.level}."
            )
        )

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(15 * mm, 10 * mm, f"{cycle.country} MNR self-assessment: {status}")
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
