"""How media is classified, and how a case's outcome follows from its items.

The assessment values are INHOPE's: *baseline* (illegal in every country that uses the INHOPE
baseline), *nationally illegal* (illegal under this country's law only), *not illegal*, *not
assessable*. The category scheme and the apparent age groups differ between countries, so they are
configured (OPENMNR_HOTLINE_CATEGORIES, OPENMNR_HOTLINE_AGE_GROUPS); the defaults are the IWF's
A/B/C and INHOPE's age groups. A configured item is ``code`` or ``code:Label``; the list runs from
most to least severe, which is how a case picks its category from several items.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import InvalidClassification


class Assessment(models.TextChoices):
    BASELINE = "baseline", _("Baseline (illegal internationally)")
    NATIONALLY_ILLEGAL = "nationally_illegal", _("Nationally illegal")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")
    NOT_ASSESSABLE = "not_assessable", _("Not assessable")


ILLEGAL = (Assessment.BASELINE, Assessment.NATIONALLY_ILLEGAL)
# A case's outcome is the first of these that any of its items has.
_OUTCOME_ORDER = (
    Assessment.BASELINE,
    Assessment.NATIONALLY_ILLEGAL,
    Assessment.NOT_ILLEGAL,
    Assessment.NOT_ASSESSABLE,
)

# Labels for the default codes; a configured code without a label shows as written.
_KNOWN_LABELS = {
    "A": _("Category A"),
    "B": _("Category B"),
    "C": _("Category C"),
    "infant_toddler": _("Infant or toddler"),
    "prepubescent": _("Prepubescent"),
    "pubescent": _("Pubescent"),
    "unknown": _("Unknown"),
}


@dataclass(frozen=True)
class Classification:
    """One item's classification. Category and age group are required for illegal material and
    empty otherwise."""

    assessment: str
    category: str = ""
    age_group: str = ""


def _scheme(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        code, _sep, label = item.partition(":")
        code = code.strip()
        pairs.append((code, label.strip() or _KNOWN_LABELS.get(code, code)))
    return pairs


def categories() -> list[tuple[str, str]]:
    """(code, label) of the national category scheme, most severe first."""
    return _scheme(settings.HOTLINE_CATEGORIES)


def age_groups() -> list[tuple[str, str]]:
    """(code, label) of the apparent age groups, youngest first."""
    return _scheme(settings.HOTLINE_AGE_GROUPS)


def label(code: str, scheme: list[tuple[str, str]]) -> str:
    return dict(scheme).get(code, code)


def validate(classification: Classification) -> Classification:
    """Return the classification if it fits the configured scheme, else `InvalidClassification`."""
    if classification.assessment not in Assessment.values:
        raise InvalidClassification(f"{classification.assessment!r} is not an assessment")
    if classification.assessment in ILLEGAL:
        if classification.category not in dict(categories()):
            raise InvalidClassification("illegal material needs a category of the national scheme")
        if classification.age_group not in dict(age_groups()):
            raise InvalidClassification("illegal material needs an apparent age group")
        return classification
    if classification.category or classification.age_group:
        raise InvalidClassification("only illegal material takes a category and an age group")
    return classification


def outcome_of(items: list[Classification]) -> Classification:
    """A case's outcome from its classified items: the most serious assessment any item has, with
    the most severe category and the youngest age group among the items that share it."""
    if not items:
        raise InvalidClassification("a case's outcome needs at least one classified item")
    assessment = next(a for a in _OUTCOME_ORDER if any(item.assessment == a for item in items))
    if assessment not in ILLEGAL:
        return Classification(assessment)
    same = [item for item in items if item.assessment == assessment]
    return Classification(
        assessment,
        _most_severe([item.category for item in same], categories()),
        _most_severe([item.age_group for item in same], age_groups()),
    )


def _most_severe(codes: list[str], scheme: list[tuple[str, str]]) -> str:
    order = [code for code, _label in scheme]
    # A code no longer in the scheme (changed configuration) ranks after every configured one.
    return min(codes, key=lambda code: order.index(code) if code in order else len(order))
