"""Server-side SVG charts for the dashboard: no JavaScript, no inline style (colours come from classes
in assessment.css, so the Content Security Policy needs no exception).

Each chart carries a <title> and a <desc> that states every figure it draws; the template also puts
the same figures in a visually hidden table, for screen-reader users who prefer to read a table.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .analysis import DomainView

X0 = 24  # left margin of the level scale: room for the axis label under level 0
LEVEL_WIDTH = 90  # pixels per maturity level
ROW_HEIGHT = 48
BAR_TOP, BAR_HEIGHT = 20, 16
WIDTH = 680
AXIS_HEIGHT = 44


def _x(level: int) -> int:
    return X0 + level * LEVEL_WIDTH


def describe_row(row, level_name) -> str:
    text = f"{row.number} {row.name}: current level {row.current} ({level_name(row.current)}), "
    text += f"target {row.target} ({level_name(row.target)})"
    if row.previous is not None:
        text += f", previous cycle {row.previous} ({level_name(row.previous)})"
    return text


def domain_chart(view: DomainView, level_name, chart_id: str) -> SafeString:
    """Current level (bar), target (line) and previous cycle's level (dot) of each capability."""
    rows = view.rows
    height = len(rows) * ROW_HEIGHT + AXIS_HEIGHT
    parts = []
    for level in range(5):
        parts.append(
            format_html(
                '<line class="gridline" x1="{x}" y1="0" x2="{x}" y2="{y}"/>'
                '<text class="axis" x="{x}" y="{t1}" text-anchor="middle">{n}</text>'
                '<text class="axis" x="{x}" y="{t2}" text-anchor="middle">{name}</text>',
                x=_x(level),
                y=len(rows) * ROW_HEIGHT,
                t1=len(rows) * ROW_HEIGHT + 16,
                t2=len(rows) * ROW_HEIGHT + 32,
                n=level,
                name=level_name(level),
            )
        )
    for i, row in enumerate(rows):
        top = i * ROW_HEIGHT
        parts.append(
            format_html(
                '<text class="label" x="{x}" y="{y}">{n} {name}</text>'
                '<rect class="track" x="{x}" y="{by}" width="{w}" height="{h}"/>',
                x=X0,
                y=top + 14,
                n=row.number,
                name=row.name,
                by=top + BAR_TOP,
                w=4 * LEVEL_WIDTH,
                h=BAR_HEIGHT,
            )
        )
        if row.current:
            parts.append(
                format_html(
                    '<rect class="bar level-{lv}" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                    lv=row.current,
                    x=X0,
                    y=top + BAR_TOP,
                    w=row.current * LEVEL_WIDTH,
                    h=BAR_HEIGHT,
                )
            )
        parts.append(
            format_html(
                '<line class="target" x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/>',
                x=_x(row.target),
                y1=top + BAR_TOP - 4,
                y2=top + BAR_TOP + BAR_HEIGHT + 4,
            )
        )
        if row.previous is not None:
            parts.append(
                format_html(
                    '<circle class="previous" cx="{x}" cy="{y}" r="5"/>',
                    x=_x(row.previous),
                    y=top + BAR_TOP + BAR_HEIGHT // 2,
                )
            )
        summary = f"now {row.current}, target {row.target}"
        if row.previous is not None:
            summary += f", was {row.previous}"
        parts.append(
            format_html(
                '<text class="value" x="{x}" y="{y}">{text}</text>',
                x=_x(4) + 16,
                y=top + BAR_TOP + 13,
                text=summary,
            )
        )
    desc = "; ".join(describe_row(row, level_name) for row in rows) + "."
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=height,
        id=chart_id,
        title=f"{view.domain.name}: current level against target, by capability",
        desc=desc,
        body=format_html_join("", "{}", ((part,) for part in parts)),
    )


def level_legend(level_name) -> SafeString:
    """The key shared by the charts and the grid: a swatch and the level's number and name."""
    return format_html(
        '<ul class="legend">{}'
        '<li><svg class="swatch" aria-hidden="true" viewBox="0 0 20 20"><line class="target" x1="10" y1="0" x2="10" y2="20"/></svg> target</li>'
        '<li><svg class="swatch" aria-hidden="true" viewBox="0 0 20 20"><circle class="previous" cx="10" cy="10" r="5"/></svg> previous signed-off cycle</li></ul>',
        format_html_join(
            "",
            '<li><svg class="swatch" aria-hidden="true" viewBox="0 0 20 20"><rect class="bar level-{}" x="0" y="0" width="20" height="20"/></svg> {} {}</li>',
            ((n, n, level_name(n)) for n in range(5)),
        ),
    )


# --- regional comparison ---------------------------------------------------------------------------

GRID_LABEL_WIDTH = 380  # the longest name, "10 Compensation, remedies and complaints arrangements"
GRID_CELL_WIDTH = 110
GRID_ROW_HEIGHT = 22
GRID_HEADER = 40


def comparison_grid(comparison, chart_id: str) -> SafeString:
    """Capabilities down, countries across (alphabetical), each cell coloured by level and showing the
    level's number, so the figure never rests on colour alone. The <desc> states every cell."""
    countries = comparison.countries
    width = GRID_LABEL_WIDTH + GRID_CELL_WIDTH * len(countries)
    height = GRID_HEADER + GRID_ROW_HEIGHT * len(comparison.rows)
    parts = [
        format_html(
            '<text class="axis" x="{x}" y="{y}" text-anchor="middle">{name}</text>',
            x=GRID_LABEL_WIDTH + GRID_CELL_WIDTH * i + GRID_CELL_WIDTH // 2,
            y=GRID_HEADER - 12,
            name=r.country,
        )
        for i, r in enumerate(countries)
    ]
    described = []
    for j, row in enumerate(comparison.rows):
        y = GRID_HEADER + GRID_ROW_HEIGHT * j
        parts.append(
            format_html(
                '<text class="label" x="0" y="{y}">{n} {name}</text>', y=y + 15, n=row.number, name=row.name
            )
        )
        cells = []
        for i, cell in enumerate(row.cells):
            x = GRID_LABEL_WIDTH + GRID_CELL_WIDTH * i
            if cell.level is None:
                parts.append(
                    format_html(
                        '<rect class="track" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                        '<text class="value" x="{tx}" y="{ty}" text-anchor="middle">not assessed</text>',
                        x=x + 2,
                        y=y + 2,
                        w=GRID_CELL_WIDTH - 4,
                        h=GRID_ROW_HEIGHT - 4,
                        tx=x + GRID_CELL_WIDTH // 2,
                        ty=y + 15,
                    )  # fmt: skip
                )
                cells.append(f"{cell.country} not assessed")
                continue
            parts.append(
                format_html(
                    '<rect class="bar level-{lv}" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                    '<text class="value{dark}" x="{tx}" y="{ty}" text-anchor="middle">{lv} {name}</text>',
                    lv=cell.level,
                    x=x + 2,
                    y=y + 2,
                    w=GRID_CELL_WIDTH - 4,
                    h=GRID_ROW_HEIGHT - 4,
                    dark=" on-dark" if cell.level >= 3 else "",
                    tx=x + GRID_CELL_WIDTH // 2,
                    ty=y + 15,
                    name=comparison.level_name(cell.level),
                )  # fmt: skip
            )
            cells.append(f"{cell.country} level {cell.level} ({comparison.level_name(cell.level)})")
        described.append(f"{row.number} {row.name}: " + ", ".join(cells))
    return format_html(
        '<svg class="chart grid-chart" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=width,
        h=height,
        id=chart_id,
        title="Current level by capability and country",
        desc="; ".join(described) + ".",
        body=format_html_join("", "{}", ((part,) for part in parts)),
    )


def shared_gaps_chart(comparison, chart_id: str) -> SafeString:
    """One bar per shared gap: how many of the countries that assessed the capability are below their
    own target. The number is written beside each bar."""
    gaps = comparison.shared_gaps
    most = max((g.assessed for g in gaps), default=1)
    unit = 300 / most
    height = GRID_HEADER // 2 + GRID_ROW_HEIGHT * len(gaps)
    parts = []
    for j, gap in enumerate(gaps):
        y = GRID_ROW_HEIGHT * j
        parts.append(
            format_html(
                '<text class="label" x="0" y="{ty}">{n} {name}</text>'
                '<rect class="track" x="{x}" y="{y}" width="{full}" height="{h}"/>'
                '<rect class="bar level-2" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                '<text class="value" x="{vx}" y="{ty}">{count} of {assessed} below target</text>',
                ty=y + 15,
                n=gap.number,
                name=gap.name,
                x=GRID_LABEL_WIDTH,
                y=y + 3,
                full=gap.assessed * unit,
                w=len(gap.with_gap) * unit,
                h=GRID_ROW_HEIGHT - 6,
                vx=GRID_LABEL_WIDTH + most * unit + 10,
                count=len(gap.with_gap),
                assessed=gap.assessed,
            )  # fmt: skip
        )
    desc = "; ".join(
        f"{g.number} {g.name}: {len(g.with_gap)} of {g.assessed} countries below their target "
        f"({', '.join(g.with_gap)})"
        for g in gaps
    )
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=GRID_LABEL_WIDTH + 300 + 220,
        h=max(height, GRID_ROW_HEIGHT),
        id=chart_id,
        title="Gaps shared by several countries",
        desc=(desc or "No gap is shared by at least two countries.") + ".",
        body=format_html_join("", "{}", ((part,) for part in parts)),
    )
