"""Server-rendered SVG bar charts for the statistics page: no JavaScript, no inline style (colours
come from classes in takedown/takedown.css, so the Content Security Policy needs no exception).

Every chart carries a <title> and a <desc> stating each figure it draws, and the page shows the
same figures in a table beside it, so nothing is told by colour or shape alone.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from openmnr.core.takedown.stats import Summary

WIDTH = 680
LABEL_WIDTH = 150
BAR_AREA = 400
BAR_HEIGHT = 14
ROW_GAP = 10
TOP = 8


@dataclass(frozen=True)
class Bar:
    series: str  # CSS class, e.g. "median"
    name: str  # what the bar is, for the text alternative
    value: float | None  # None: "not reached" / no data
    text: str  # the value as shown beside the bar


@dataclass(frozen=True)
class Row:
    label: str
    bars: tuple[Bar, ...]


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def hours_text(value: timedelta | None) -> str:
    if value is None:
        return "not reached"
    h = value.total_seconds() / 3600
    return f"{h:.1f} h" if h < 48 else f"{h / 24:.1f} d"


def share_text(value: float | None) -> str:
    return "too early to say" if value is None else f"{value:.0%}"


def bar_chart(chart_id: str, title: str, rows: list[Row], scale_max: float) -> SafeString:
    """Horizontal bars, one group per row; a bar's length is value / scale_max of the bar area."""
    scale_max = scale_max or 1
    per_row = len(rows[0].bars) * BAR_HEIGHT + ROW_GAP if rows else 0
    height = TOP * 2 + len(rows) * per_row
    parts = []
    descriptions = []
    for index, row in enumerate(rows):
        top = TOP + index * per_row
        parts.append(
            format_html(
                '<text class="label" x="0" y="{y}">{label}</text>',
                y=top + BAR_HEIGHT - 3,
                label=row.label,
            )
        )
        said = []
        for number, bar in enumerate(row.bars):
            y = top + number * BAR_HEIGHT
            width = 0 if bar.value is None else max(1, round(min(bar.value / scale_max, 1) * BAR_AREA))
            parts.append(
                format_html(
                    '<rect class="bar {series}" x="{x}" y="{y}" width="{w}" height="{h}"/>'
                    '<text class="value" x="{tx}" y="{ty}">{text}</text>',
                    series=bar.series,
                    x=LABEL_WIDTH,
                    y=y + 1,
                    w=width,
                    h=BAR_HEIGHT - 2,
                    tx=LABEL_WIDTH + width + 6,
                    ty=y + BAR_HEIGHT - 3,
                    text=bar.text,
                )
            )
            said.append(f"{bar.name} {bar.text}")
        descriptions.append(f"{row.label}: {', '.join(said)}")
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {w} {h}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=max(height, 30),
        id=chart_id,
        title=title,
        desc=("; ".join(descriptions) + ".") if descriptions else "No cases yet.",
        body=format_html_join("", "{}", ((part,) for part in parts)),
    )


def removal_time_chart(chart_id: str, title: str, groups: dict[str, Summary]) -> SafeString:
    """Median and p90 of report -> removal for each group."""
    rows = [
        Row(
            label,
            (
                Bar(
                    "median",
                    "median",
                    hours(s.report_to_removal_median),
                    hours_text(s.report_to_removal_median),
                ),
                Bar(
                    "p90",
                    "90th percentile",
                    hours(s.report_to_removal_p90),
                    hours_text(s.report_to_removal_p90),
                ),
            ),
        )
        for label, s in groups.items()
    ]
    longest = max((bar.value or 0 for row in rows for bar in row.bars), default=0)
    return bar_chart(chart_id, title, rows, longest)


def within_chart(chart_id: str, title: str, groups: dict[str, Summary]) -> SafeString:
    """The share removed within 1, 3 and 7 days of the report, for each group."""
    rows = [
        Row(
            label,
            tuple(
                Bar(f"within-{days}", f"within {days} day{'s' if days > 1 else ''}", share, share_text(share))
                for days, share in s.removed_within.items()
            ),
        )
        for label, s in groups.items()
    ]
    return bar_chart(chart_id, title, rows, 1.0)
