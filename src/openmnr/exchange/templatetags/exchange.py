"""The exchange panel on the hotline's case page (hotline's case.html includes
exchange/case_exchange.html, which calls this tag)."""

from django import template

register = template.Library()


@register.inclusion_tag("exchange/_panel.html", takes_context=True)
def exchange_panel(context, case):
    from openmnr.exchange.models import FederatedCase, NetworkEvent, NetworkItem

    items = list(NetworkItem.objects.filter(case_id=case.pk))
    return {
        "items": items,
        "federated": list(FederatedCase.objects.filter(case_id=case.pk).select_related("partner")),
        "events": list(NetworkEvent.objects.filter(case_id=case.pk)),
        "partner_assessed": [item for item in items if item.assessed_by_partner],
    }


@register.filter
def vocabulary_label(code: str, list_name: str) -> str:
    from openmnr.core.vocabulary import UnknownTermError, vocabulary

    if not code:
        return ""
    try:
        return vocabulary().list(list_name).term(code).label
    except UnknownTermError:
        return code
