"""Small template filters for the assessment pages: names from the cycle's framework, and live
indicator values with their unit."""

from django import template

register = template.Library()

UNITS = {"percent": "%", "hours": " hours", "count": ""}


@register.filter
def capname(number, framework) -> str:
    """`{{ 12|capname:framework }}` -> "12 CSEA hotline"."""
    return f"{number} {framework.capability(number).name}"


@register.filter
def levelname(number, framework) -> str:
    """`{{ 2|levelname:framework }}` -> "2 developing"."""
    return next(f"{lv.number} {lv.name}" for lv in framework.levels if lv.number == number)


@register.filter
def needs(block, framework) -> str:
    """`{{ b|needs:framework }}` -> "3 Legislation at level 2 (it is at 1)", alternatives joined by "or"."""
    from openmnr.assessment.analysis import describe_needs

    return describe_needs(block, framework)


@register.filter
def needs_planned(block, framework) -> str:
    """The same, with the levels the plan reaches instead of today's."""
    from openmnr.assessment.analysis import describe_needs

    return describe_needs(block, framework, now=False)


@register.filter
def alternatives(prerequisite, framework) -> str:
    """`{{ p|alternatives:framework }}` -> "12 CSEA hotline at level 2 or 4 Dedicated law enforcement at level 2"."""
    return " or ".join(
        f"{r.capability} {framework.capability(r.capability).name} at level {r.level}"
        for r in prerequisite.any_of
    )


@register.filter
def source(citation, framework):
    """The Source a citation quotes."""
    return framework.source_of(citation.source)


@register.filter
def live_value(value) -> str:
    """An IndicatorValue as the page shows it: "42", "3.5 hours", "87.5%", or why there is no figure."""
    if value.value is None:
        return value.note
    number = f"{value.value:,.1f}".removesuffix(".0")
    return number + UNITS.get(value.unit, f" {value.unit}")


ACTIONS = {
    "open": "Cycle opened",
    "assign_domain": "Domain assigned",
    "record_capability": "Capability recorded",
    "add_evidence": "Evidence added",
    "remove_evidence": "Evidence removed",
    "comment": "Comment",
    "submit_for_review": "Submitted for review",
    "return_to_draft": "Returned to draft",
    "sign": "Signed (first signature)",
    "countersign": "Countersigned: signed off",
    "sign_off": "Signed off",
}


@register.filter
def action_label(action: str) -> str:
    return ACTIONS.get(action, action)


@register.filter
def shown(value) -> str:
    """A value of a history row as a reader wants it: lists joined, nothing as a dash (0 stays 0)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
