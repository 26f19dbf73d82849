"""Labels of the configured classification scheme, for the staff pages."""

from django import template

from openmnr.core.vocabulary import UnknownTermError, vocabulary
from openmnr.hotline import classification

register = template.Library()


@register.filter
def category_label(code: str) -> str:
    return classification.label(code, classification.categories())


@register.filter
def age_group_label(code: str) -> str:
    return classification.label(code, classification.age_groups())


@register.filter
def term(code: str, list_name: str) -> str:
    """The vocabulary label of `code` in list `list_name`; "not recorded" for an empty value."""
    if not code:
        return "not recorded"
    try:
        return vocabulary().list(list_name).term(code).label
    except UnknownTermError:
        return code


@register.filter
def flag_label(code: str) -> str:
    try:
        return vocabulary().flag(code).label
    except UnknownTermError:
        return code
