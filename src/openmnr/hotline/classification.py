"""How media is classified, and how a case's outcome follows from its items.

The assessment values are INHOPE's: *baseline* (illegal in every country that uses the INHOPE
baseline), *nationally illegal* (illegal under this country's law only), *doubtful* (possibly
illegal, the analyst cannot decide), *not illegal*, *not assessable*. Their codes, and those of
gender, content type and the flags, are the assessment vocabulary's (``openmnr.core.vocabulary``),
which maps them to ICCAM and the CyberTipline; a test keeps `Assessment` equal to it.

Two rules make an assessment mean what other hotlines and the police read into it. Baseline is
INTERPOL's: a *real* child, apparently prepubescent, so a baseline item must be in one of the
baseline age groups (OPENMNR_HOTLINE_BASELINE_AGE_GROUPS) and must not be virtual. Virtual material
(drawn, computer- or AI-generated) can still be nationally illegal where the law says so
(OPENMNR_HOTLINE_VIRTUAL_CAN_BE_ILLEGAL). Gender, content type and flags are optional: an empty
value, or ``flags=None``, means "not recorded", which is what every item assessed before these
fields existed has, and statistics count it as such rather than as a guess.

The category scheme and the apparent age groups differ between countries, so they are
configured (OPENMNR_HOTLINE_CATEGORIES, OPENMNR_HOTLINE_AGE_GROUPS); the defaults are the IWF's
A/B/C and INHOPE's age groups. A configured item is ``code`` or ``code:Label``; the list runs from
most to least severe, which is how a case picks its category from several items.
"""

from dataclasses import dataclass, replace

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from openmnr.core.vocabulary import vocabulary

from .errors import InvalidClassification


class Assessment(models.TextChoices):
    BASELINE = "baseline", _("Baseline (illegal internationally)")
    NATIONALLY_ILLEGAL = "nationally_illegal", _("Nationally illegal")
    DOUBTFUL = "doubtful", _("Doubtful")
    NOT_ILLEGAL = "not_illegal", _("Not illegal")
    NOT_ASSESSABLE = "not_assessable", _("Not assessable")


ILLEGAL = (Assessment.BASELINE, Assessment.NATIONALLY_ILLEGAL)
# A case's outcome is the first of these that any of its items has.
_OUTCOME_ORDER = (
    Assessment.BASELINE,
    Assessment.NATIONALLY_ILLEGAL,
    Assessment.DOUBTFUL,
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
    empty otherwise; gender, content type and flags are optional ("" / None: not recorded)."""

    assessment: str
    category: str = ""
    age_group: str = ""
    gender: str = ""
    content_type: str = ""
    flags: tuple[str, ...] | None = None

    @property
    def is_virtual(self) -> bool:
        return "virtual" in vocabulary().close_flags(self.flags or ())

    def closed(self) -> "Classification":
        """The same, with the flags that others imply (AI-generated brings virtual), sorted."""
        if self.flags is None:
            return self
        return replace(self, flags=tuple(sorted(vocabulary().close_flags(self.flags))))


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


def baseline_age_groups() -> list[str]:
    """The configured age groups inside INTERPOL's baseline (apparently prepubescent)."""
    return list(settings.HOTLINE_BASELINE_AGE_GROUPS)


def genders() -> list[tuple[str, str]]:
    return vocabulary().list("gender").choices()


def content_types() -> list[tuple[str, str]]:
    return vocabulary().list("content_type").choices()


# The flags an analyst records on the classify form (the vocabulary has more, read from industry
# reports; they are kept when imported but not offered here).
FORM_FLAGS = ("virtual", "ai_generated", "self_generated", "child_modelling", "live_streamed")


def flag_choices() -> list[tuple[str, str]]:
    return [(code, vocabulary().flag(code).label) for code in FORM_FLAGS]


def meets_baseline(classification: Classification) -> bool:
    """False for a baseline classification of a virtual item or outside the baseline age groups
    (what `validate` refuses); True for anything else. Bank matches are held to this rule only:
    their category comes from the bank, which may use another scheme."""
    if classification.assessment != Assessment.BASELINE:
        return True
    return classification.age_group in baseline_age_groups() and not classification.is_virtual


def label(code: str, scheme: list[tuple[str, str]]) -> str:
    return dict(scheme).get(code, code)


def validate(classification: Classification) -> Classification:
    """Return the classification (flags closed over what they imply) if it fits the configured
    scheme and the baseline rule, else `InvalidClassification` saying what is wrong."""
    if classification.assessment not in Assessment.values:
        raise InvalidClassification(f"{classification.assessment!r} is not an assessment")
    if classification.gender and classification.gender not in dict(genders()):
        raise InvalidClassification(f"{classification.gender!r} is not a gender of the vocabulary")
    if classification.content_type and classification.content_type not in dict(content_types()):
        raise InvalidClassification(f"{classification.content_type!r} is not a content type")
    for flag in classification.flags or ():
        if flag not in {f.code for f in vocabulary().flags}:
            raise InvalidClassification(f"{flag!r} is not a flag of the vocabulary")
    classification = classification.closed()
    if classification.assessment in ILLEGAL:
        if classification.category not in dict(categories()):
            raise InvalidClassification("illegal material needs a category of the national scheme")
        if classification.age_group not in dict(age_groups()):
            raise InvalidClassification("illegal material needs an apparent age group")
        if classification.assessment == Assessment.BASELINE:
            if classification.is_virtual:
                raise InvalidClassification(
                    "baseline needs a real child: virtual material can at most be nationally illegal"
                )
            if classification.age_group not in baseline_age_groups():
                young = ", ".join(str(label(code, age_groups())) for code in baseline_age_groups())
                raise InvalidClassification(f"baseline needs a child in a baseline age group ({young})")
        elif classification.is_virtual and not settings.HOTLINE_VIRTUAL_CAN_BE_ILLEGAL:
            raise InvalidClassification("virtual material is not illegal under this country's law")
        return classification
    if classification.category or classification.age_group:
        raise InvalidClassification("only illegal material takes a category and an age group")
    return classification


@dataclass(frozen=True)
class Site:
    """What the site of a case is, as ICCAM records it per report ("" / None: not recorded)."""

    site_type: str = ""
    commerciality: str = ""
    payment_methods: tuple[str, ...] | None = None


def validate_site(site: Site) -> Site:
    """The site description if every code is the vocabulary's, else `InvalidClassification`."""
    vocab = vocabulary()
    if site.site_type and site.site_type not in vocab.list("site_type").codes():
        raise InvalidClassification(f"{site.site_type!r} is not a site type")
    if site.commerciality and site.commerciality not in vocab.list("commerciality").codes():
        raise InvalidClassification(f"{site.commerciality!r} is not a commerciality")
    for method in site.payment_methods or ():
        if method not in vocab.list("payment_method").codes():
            raise InvalidClassification(f"{method!r} is not a payment method")
    return site


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
