"""Filters every template has without ``{% load %}`` (``TEMPLATES`` builtins): how an address is
shown to a person."""

from django import template
from django.utils.html import format_html

from openmnr.core.signals.url import display_url

register = template.Library()


@register.filter
def readable_url(url: str) -> str:
    """The address decoded for reading (Unicode host and path), see ``display_url``."""
    return display_url(url or "")


@register.filter
def url_both(url: str):
    """The readable address, followed by the encoded one (as stored and fetched) when they differ,
    so that a look-alike host cannot pass for another."""
    readable = display_url(url or "")
    if readable == url:
        return format_html('<code class="wrap">{}</code>', url)
    return format_html(
        '<code class="wrap">{}</code> <span class="muted">(encoded: <code class="wrap">{}</code>)</span>',
        readable,
        url,
    )
