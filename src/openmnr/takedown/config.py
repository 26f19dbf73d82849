"""What the takedown app reaches the world with, built from settings: the notice cadence, the DNS
resolver, the hosting tracer, the availability check and the delivery of notices.

`Tools` bundles them so that the tick can be given others: the demo traces from fixed data and
sends nothing; tests point the real ones at servers on 127.0.0.1 through settings.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings

from openmnr.core.hosting.cdn import CdnCatalog
from openmnr.core.hosting.dns import DnspythonResolver, Resolver
from openmnr.core.hosting.geo import GeoLookup
from openmnr.core.hosting.rdap import Bootstrap, RdapClient
from openmnr.core.hosting.trace import HostingTrace, Tracer
from openmnr.core.takedown.schedule import Cadence

from . import availability, delivery


class TracesHosts(Protocol):
    def trace(self, hostname: str) -> HostingTrace: ...


@dataclass(frozen=True)
class Tools:
    tracer: TracesHosts
    check: Callable[..., availability.CheckResult]  # check(hotline case)
    deliver: Callable[[delivery.Message], delivery.Delivery]


def cadence() -> Cadence:
    escalate_after = settings.TAKEDOWN_ESCALATE_AFTER
    return Cadence(
        first_notice_known=timedelta(minutes=settings.TAKEDOWN_FIRST_NOTICE_KNOWN_MINUTES),
        first_notice_other=timedelta(minutes=settings.TAKEDOWN_FIRST_NOTICE_OTHER_MINUTES),
        repeat_every=timedelta(hours=settings.TAKEDOWN_REPEAT_HOURS),
        escalate_after=escalate_after if escalate_after > 0 else None,
        check_every=timedelta(minutes=settings.TAKEDOWN_CHECK_MINUTES),
        retrace_every=timedelta(hours=settings.TAKEDOWN_RETRACE_HOURS),
    )


def resolver() -> Resolver:
    return DnspythonResolver(
        nameservers=settings.TAKEDOWN_DNS_NAMESERVERS or None, port=settings.TAKEDOWN_DNS_PORT
    )


def _rdap() -> RdapClient | None:
    timeout = settings.TAKEDOWN_RDAP_TIMEOUT
    if settings.TAKEDOWN_RDAP_BASE_URL:
        return RdapClient(base_url=settings.TAKEDOWN_RDAP_BASE_URL, timeout=timeout)
    if settings.TAKEDOWN_RDAP_BOOTSTRAP_DIR:
        return RdapClient(bootstrap=Bootstrap.load(settings.TAKEDOWN_RDAP_BOOTSTRAP_DIR), timeout=timeout)
    return None


@contextmanager
def tools_from_settings() -> Iterator[Tools]:
    """The production tools; the .mmdb files stay open until the block ends. Raises HostingError
    for a configuration that cannot work (missing database file, bad bootstrap folder)."""
    dns = resolver()
    geo = None
    if settings.TAKEDOWN_ASN_DB or settings.TAKEDOWN_COUNTRY_DB:
        geo = GeoLookup(
            asn_db=settings.TAKEDOWN_ASN_DB or None, country_db=settings.TAKEDOWN_COUNTRY_DB or None
        )
    try:
        tracer = Tracer(dns, CdnCatalog.load(settings.TAKEDOWN_CDN_FILE or None), geo=geo, rdap=_rdap())
        yield Tools(
            tracer=tracer,
            check=lambda case: availability.check_case(case, dns),
            deliver=delivery.deliver,
        )
    finally:
        if geo is not None:
            geo.close()
