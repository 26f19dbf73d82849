"""Labels of the configured classification scheme, for the staff pages."""

from django import template

from openmnr.hotline import classification

register = template.Library()


@register.filter
def category_label(code: str) -> str:
    return classification.label(code, classification.categories())


@register.filter
def age_group_label(code: str) -> str:
    return classification.label(code, classification.age_groups())
