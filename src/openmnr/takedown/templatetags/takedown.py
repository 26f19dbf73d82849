"""The takedown panel on the hotline's case page (hotline's case.html includes
takedown/case_hosting.html, which calls this tag)."""

from django import template

register = template.Library()


@register.inclusion_tag("takedown/_panel.html", takes_context=True)
def takedown_panel(context, case):
    from openmnr.takedown.models import TakedownCase

    takedown = TakedownCase.objects.filter(pk=case.pk).first()
    user = context.get("user")
    return {
        "takedown": takedown,
        "trace": takedown.traces.first() if takedown else None,
        "can_view": bool(user and user.has_perm("takedown.view_takedown")),
    }


@register.filter
def duration_text(value) -> str:
    """A removal time as the statistics show it: hours below two days, days above."""
    from openmnr.takedown.charts import hours_text

    return hours_text(value)


@register.filter
def share_text(value) -> str:
    from openmnr.takedown.charts import share_text as text

    return text(value)


@register.filter
def action_label(kind: str) -> str:
    """What an action of a case's routing is called (openmnr.core.takedown.routing.ActionKind)."""
    from openmnr.core.takedown.routing import ActionKind

    try:
        return ActionKind(kind).label
    except ValueError:
        return kind
