"""The case's timeline (what its page shows), and the words the steps write into it."""

from openmnr.core.hosting.trace import HostingTrace

from ..models import Event


def event(takedown, at, kind, text: str, **detail) -> None:
    Event.objects.create(takedown=takedown, at=at, kind=kind, text=text[:500], detail=detail)


def host(trace: HostingTrace) -> str:
    """Where the content is hosted, in a few words: the CDN, or the network and its country."""
    if trace.cdn:
        return f"{trace.cdn} (CDN)"
    where = f"AS{trace.asn} {trace.org or ''}".strip() if trace.asn else ", ".join(trace.ips) or "nowhere"
    return f"{where} in {trace.country}" if trace.country else where


def describe_trace(trace: HostingTrace) -> str:
    text = f"{trace.hostname}: {host(trace)}"
    if trace.abuse_contacts:
        text += f"; abuse contact {', '.join(trace.abuse_contacts)}"
    if trace.problems:
        text += f"; {len(trace.problems)} problem(s): {trace.problems[0]}"
    return text
