"""Routing with the administrator's data: the rules in `Policy` and the contacts in `DirectoryEntry`,
applied by the core's `route()`.

Routing's result is kept on the case as plain dicts (`TakedownCase.actions`), each naming the
directory entry it came from, if any, so that delivery finds the entry's webhook and language:

    {"kind": "notice_host", "rule": "hosted in our country", "note": "",
     "to": {"name": ..., "emails": [...], "api_url": ..., "country": ...}, "entry": 3}
"""

import dataclasses

from django.conf import settings

from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown.routing import Action, ActionKind, Contact, Directory, route

from .models import DirectoryEntry, EntryKind, Policy


def _contact(entry: DirectoryEntry) -> Contact:
    return Contact(
        name=entry.name,
        emails=tuple(entry.email_list),
        api_url=entry.api_url or None,
        country=entry.country or None,
    )


def provider_entry(trace: HostingTrace) -> DirectoryEntry | None:
    """The provider entry that overrides RDAP for this trace: by CDN name behind a CDN, else by ASN."""
    providers = DirectoryEntry.objects.filter(kind=EntryKind.PROVIDER, active=True)
    if trace.cdn:
        return providers.filter(cdn__iexact=trace.cdn).first()
    if trace.asn is not None:
        return providers.filter(asn=trace.asn).first()
    return None


def route_trace(trace: HostingTrace) -> list[dict]:
    """The actions for `trace` under the current rules and directory, as stored on the case."""
    entries = list(DirectoryEntry.objects.filter(active=True).exclude(kind=EntryKind.PROVIDER))
    entry_of: dict[Contact, DirectoryEntry] = {}
    law_enforcement = fallback = None
    partners = {}
    for entry in entries:
        contact = _contact(entry)
        entry_of[contact] = entry
        if entry.kind == EntryKind.LAW_ENFORCEMENT and law_enforcement is None:
            law_enforcement = contact
        elif entry.kind == EntryKind.FALLBACK and fallback is None:
            fallback = contact
        elif entry.kind == EntryKind.PARTNER:
            partners.setdefault(entry.country, contact)

    provider = provider_entry(trace)
    if provider is not None:
        # The provider's own contacts replace what RDAP said. Routing only asks whether a contact
        # exists, so an entry reached by API alone stands in with its URL.
        contacts = tuple(provider.email_list) or (provider.api_url,)
        trace = dataclasses.replace(trace, abuse_contacts=contacts)
    directory = Directory(law_enforcement=law_enforcement, partners=partners, international_fallback=fallback)
    actions = route(trace, Policy.current().rules, directory, settings.TAKEDOWN_HOME_COUNTRY)
    stored = []
    for action in actions:
        entry = entry_of.get(action.to)
        if provider is not None and action.kind in (ActionKind.NOTICE_HOST, ActionKind.NOTICE_CDN):
            entry = provider
            action = dataclasses.replace(action, to=_contact(provider))
        stored.append(as_dict(action, entry))
    return stored


def as_dict(action: Action, entry: DirectoryEntry | None) -> dict:
    to = action.to
    return {
        "kind": action.kind,
        "rule": action.rule,
        "note": action.note,
        "to": None
        if to is None
        else {"name": to.name, "emails": list(to.emails), "api_url": to.api_url, "country": to.country},
        "entry": entry.pk if entry is not None else None,
    }


def describe(actions: list[dict]) -> str:
    """One line for the timeline: what routing decided."""
    parts = []
    for action in actions:
        if action["to"]:
            parts.append(f"{action['kind'].replace('_', ' ')} → {action['to']['name']}")
        else:
            parts.append(f"an analyst decides ({action['note'] or 'as the rule says'})")
    rule = actions[0]["rule"] if actions else ""
    return (f"rule “{rule}”: " if rule else "") + "; ".join(parts)
