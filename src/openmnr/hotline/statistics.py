"""The statistics hotlines publish (the IWF's and INHOPE's annual figures), from the platform's data.

Every figure is counted from the records of one calendar year, and the page states the definitions
it uses, because hotlines' published numbers differ mostly by definition:

- a *report* is one submission (public form or partner), whatever number of addresses it names;
- an *actioned* case is one assessed illegal (baseline or nationally illegal) in the year, by an
  analyst or automatically from the banks; the hold for the police does not change that;
- an *item* is one picture or video found at a reported address and assessed in the year; the
  shares of virtual, AI-generated and self-generated items are of illegal items whose flags were
  recorded, and the items without recorded flags are counted apart, never guessed;
- hosting country, removal outcome and removal time come from takedown, for the actioned cases.

An empty value is shown as "not recorded". Each breakdown is one GROUP BY query in the database;
only the flags, a JSON list per item, are counted in Python over the year's illegal items (no
benchmark yet: a year of millions of items would want a counted column per flag).
"""

from dataclasses import dataclass, field

from django.db.models import Count

from openmnr.core.vocabulary import UnknownTermError, vocabulary

from .classification import ILLEGAL, Assessment, categories, label
from .models import Case, ContentKind, MediaItem, Submission

NOT_RECORDED = "not recorded"


@dataclass
class Table:
    """One published breakdown: (code, label, count) rows, with the total and a note."""

    key: str
    title: str
    rows: list[tuple[str, str, int]] = field(default_factory=list)
    note: str = ""

    @property
    def total(self) -> int:
        return sum(count for _code, _label, count in self.rows)

    def bars(self, width: int = 300) -> list[dict]:
        """The rows with a bar length (0..width) and a share, for the server-rendered SVG chart."""
        most = max([count for _c, _l, count in self.rows] or [0]) or 1
        total = self.total or 1
        return [
            {
                "code": code,
                "label": text,
                "count": count,
                "share": round(100 * count / total, 1),
                "length": round(width * count / most),
                "y": index * 24,
            }
            for index, (code, text, count) in enumerate(self.rows)
        ]

    @property
    def height(self) -> int:
        return max(24 * len(self.rows), 24)


def _term_label(list_name: str, code: str) -> str:
    if not code:
        return NOT_RECORDED
    try:
        return vocabulary().list(list_name).term(code).label
    except UnknownTermError:
        return code


def _grouped(queryset, field_name: str) -> dict[str, int]:
    return {row[field_name] or "": row["n"] for row in queryset.values(field_name).annotate(n=Count("pk"))}


def _table(key, title, counts: dict[str, int], labeller, order=None, note="") -> Table:
    codes = list(order or []) + sorted(code for code in counts if code not in (order or []))
    rows = [(code, labeller(code), counts[code]) for code in codes if counts.get(code)]
    return Table(key, title, rows, note)


def for_year(year: int) -> list[Table]:
    """Every published table of `year`."""
    reports = Submission.objects.filter(received_at__year=year)
    cases = Case.objects.filter(assessed_at__year=year)
    actioned = cases.filter(assessment__in=ILLEGAL)
    items = MediaItem.objects.filter(assessed_at__year=year)
    illegal_items = items.filter(assessment__in=ILLEGAL)
    vocab = vocabulary()
    tables = [
        _table(
            "reports",
            "Reports received, by theme",
            _grouped(reports, "content_kind"),
            lambda code: str(dict(ContentKind.choices).get(code, code)),
            ContentKind.values,
        ),
        Table(
            "cases",
            "Cases assessed and actioned",
            [
                ("assessed", "cases assessed", cases.count()),
                ("actioned", "cases actioned (assessed illegal)", actioned.count()),
                ("held", "of which held for the police first", actioned.exclude(held_at=None).count()),
            ],
        ),
        _table(
            "assessment",
            "Items by assessment",
            _grouped(items, "assessment"),
            lambda code: str(dict(Assessment.choices).get(code, code or NOT_RECORDED)),
            Assessment.values,
        ),
        _table(
            "category",
            "Illegal items by category",
            _grouped(illegal_items, "category"),
            lambda code: str(label(code, categories())) if code else NOT_RECORDED,
            [code for code, _l in categories()],
        ),
        _table(
            "age_group",
            "Illegal items by apparent age group",
            _grouped(illegal_items, "age_group"),
            lambda code: _term_label("age_group", code),
            vocab.list("age_group").codes(),
        ),
        _table(
            "gender",
            "Illegal items by gender",
            _grouped(illegal_items, "gender"),
            lambda code: _term_label("gender", code),
            vocab.list("gender").codes(),
        ),
        _flags_table(illegal_items),
        _table(
            "content_type",
            "Illegal items by content type",
            _grouped(illegal_items, "content_type"),
            lambda code: _term_label("content_type", code),
            vocab.list("content_type").codes(),
        ),
        _table(
            "site_type",
            "Actioned cases by site type",
            _grouped(actioned, "site_type"),
            lambda code: _term_label("site_type", code),
            vocab.list("site_type").codes(),
        ),
        _table(
            "commerciality",
            "Actioned cases by commerciality",
            _grouped(actioned, "commerciality"),
            lambda code: _term_label("commerciality", code),
            vocab.list("commerciality").codes(),
        ),
    ]
    tables.extend(_takedown_tables(list(actioned.values_list("pk", flat=True))))
    return tables


def _flags_table(illegal_items) -> Table:
    """The shares hotlines publish: virtual, AI-generated, self-generated, among illegal items whose
    flags were recorded; those without are a row of their own."""
    recorded = list(illegal_items.exclude(flags__isnull=True).values_list("flags", flat=True))
    not_recorded = illegal_items.filter(flags__isnull=True).count()
    rows = [("recorded", "illegal items with flags recorded", len(recorded))]
    for code in ("virtual", "ai_generated", "self_generated", "child_modelling", "live_streamed"):
        rows.append(
            (code, vocabulary().flag(code).label, sum(1 for flags in recorded if code in (flags or [])))
        )
    rows.append(("not_recorded", "illegal items without flags recorded", not_recorded))
    return Table(
        "flags",
        "Virtual, AI-generated and self-generated material",
        rows,
        "Shares are of the illegal items whose flags were recorded; an item may carry several flags.",
    )


def _takedown_tables(case_ids: list[int]) -> list[Table]:
    from openmnr.takedown import services as takedown  # takedown imports the hotline at load time

    countries = takedown.hosting_countries(case_ids)
    outcome_rows = takedown.removal_times_by_outcome(case_ids)
    return [
        Table(
            "hosting_country",
            "Actioned cases by hosting country",
            sorted(((code, code or NOT_RECORDED, n) for code, n in countries.items()), key=lambda r: -r[2]),
        ),
        Table(
            "removal",
            "Removals by outcome (median hours from report to removal)",
            [(row["outcome"], _removal_label(row), row["cases"]) for row in outcome_rows],
            "Removed: the host confirmed it or the content is gone while the host answers. Unavailable: "
            "the host answers no more. Moved: found hosted elsewhere at least once (then noticed again).",
        ),
    ]


def _removal_label(row: dict) -> str:
    if row["median_hours"] is None:
        return row["label"]
    return f"{row['label']}, median {row['median_hours']} h"


def as_csv_rows(year: int, tables: list[Table]) -> list[list]:
    rows = [["year", "table", "code", "label", "count"]]
    for table in tables:
        for code, text, count in table.rows:
            rows.append([year, table.key, code, text, count])
    return rows
