"""One hosting trace: where a hostname points, who hosts it, and whom to notify.

`Tracer.trace(hostname)` asks DNS, the .mmdb databases, the CDN catalogue and RDAP, and returns a
HostingTrace. A trace never fails because a service did not answer: what could not be learnt is
listed in `problems`, and the fields stay empty, so that routing can hand the case to an analyst.
Only a hostname that is not one (InvalidHostname) or a broken .mmdb file (GeoDatabaseError) raises.

`compare(old, new)` tells whether a later trace shows a different host, which re-routes the case.
"""

import ipaddress
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from openmnr.core.hosting import HostingError
from openmnr.core.hosting.cdn import CdnCatalog
from openmnr.core.hosting.dns import DnsError, NameNotFound, Resolver, resolve
from openmnr.core.hosting.geo import GeoLookup, IpInfo
from openmnr.core.hosting.rdap import RdapClient, RdapError


class TraceDataError(HostingError):
    """Stored trace data that HostingTrace.to_dict() did not write."""


@dataclass(frozen=True)
class HostingTrace:
    """The facts found at `traced_at`.

    asn, org and country describe the first address the databases know. Behind a CDN (`cdn` set)
    they are the CDN's and the origin is unknown; `hosting_country` is then None.
    abuse_contacts are the host's (from IP RDAP), or the CDN's when behind one;
    registrar and registrar_abuse_contacts come from domain RDAP.
    """

    hostname: str
    cname_chain: tuple[str, ...]
    ips: tuple[str, ...]
    asn: int | None
    org: str | None
    country: str | None
    cdn: str | None
    abuse_contacts: tuple[str, ...]
    registrar: str | None
    registrar_abuse_contacts: tuple[str, ...]
    traced_at: datetime
    problems: tuple[str, ...] = field(default=())

    @property
    def hosting_country(self) -> str | None:
        """The country the content is hosted in, as far as routing may rely on it."""
        return None if self.cdn else self.country

    def to_dict(self) -> dict:
        """JSON-ready form (for a database JSON field and the referral manifest)."""
        data = asdict(self)
        data["traced_at"] = self.traced_at.isoformat()
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "HostingTrace":
        """Raises TraceDataError for data that to_dict() did not write."""
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise TraceDataError(f"not a stored hosting trace: {exc!r}") from None

    @classmethod
    def _from_dict(cls, data: dict) -> "HostingTrace":
        values = dict(data)
        values["traced_at"] = datetime.fromisoformat(values["traced_at"])
        for key in ("cname_chain", "ips", "abuse_contacts", "registrar_abuse_contacts", "problems"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


@dataclass(frozen=True)
class TraceChange:
    host_changed: bool
    changed_fields: tuple[str, ...]


class Tracer:
    """Holds the configured sources; `geo` and `rdap` may be None when not configured."""

    def __init__(
        self,
        resolver: Resolver,
        cdn_catalog: CdnCatalog,
        geo: GeoLookup | None = None,
        rdap: RdapClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._resolver = resolver
        self._cdn_catalog = cdn_catalog
        self._geo = geo
        self._rdap = rdap
        self._clock = clock

    def trace(self, hostname: str) -> HostingTrace:
        problems: list[str] = []
        traced_at = self._clock()
        try:
            resolution = resolve(hostname, self._resolver)
            name, chain, ips = resolution.hostname, resolution.cname_chain, resolution.addresses
        except NameNotFound:
            name, chain, ips = hostname.strip().rstrip(".").lower(), (), ()
            problems.append(f"DNS: {name} does not exist")
        except DnsError as exc:
            name, chain, ips = hostname.strip().rstrip(".").lower(), (), ()
            problems.append(f"DNS: {exc}")
        if not ips and not problems:
            problems.append(f"DNS: {name} has no A or AAAA record")

        infos = [self._geo.lookup(ip) for ip in ips] if self._geo else []
        primary = next((info for info in infos if info.asn is not None or info.country), None)
        if primary is None:
            primary = IpInfo(ip=ips[0], asn=None, org=None, country=None) if ips else None
        cdn = self._cdn_catalog.detect(cname_chain=chain, asns=[info.asn for info in infos])

        abuse: list[str] = []
        registrar, registrar_abuse = None, ()
        if self._rdap is not None:
            if primary is not None:
                try:
                    record = self._rdap.ip(primary.ip)
                    abuse.extend(record.abuse_emails if record else ())
                except RdapError as exc:
                    problems.append(f"RDAP (IP {primary.ip}): {exc}")
            if not _is_ip_literal(name):
                try:
                    record = self._rdap.domain(name)
                    if record:
                        registrar, registrar_abuse = record.registrar, record.abuse_emails
                except RdapError as exc:
                    problems.append(f"RDAP (domain {name}): {exc}")
        if cdn is not None and cdn.abuse_email and cdn.abuse_email not in abuse:
            abuse.append(cdn.abuse_email)

        return HostingTrace(
            hostname=name,
            cname_chain=chain,
            ips=ips,
            asn=primary.asn if primary else None,
            org=primary.org if primary else None,
            country=primary.country if primary else None,
            cdn=cdn.name if cdn else None,
            abuse_contacts=tuple(abuse),
            registrar=registrar,
            registrar_abuse_contacts=tuple(registrar_abuse),
            traced_at=traced_at,
            problems=tuple(problems),
        )


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def compare(old: HostingTrace, new: HostingTrace) -> TraceChange:
    """Whether `new` shows a different host than `old`, and which fields differ.

    The host changed when both traces resolved and the CDN, the ASN or the hosting country
    differ (any of them changes where the notice goes). When neither trace knows the ASN (no ASN
    database), the host changed when no address is shared. A new address inside the same network,
    or a trace that no longer resolves, is not a change of host: the first is load balancing, the
    second is for availability monitoring to judge.
    """
    compared = (
        "cname_chain",
        "ips",
        "asn",
        "org",
        "country",
        "cdn",
        "abuse_contacts",
        "registrar",
        "registrar_abuse_contacts",
    )
    changed = tuple(name for name in compared if getattr(old, name) != getattr(new, name))

    if not old.ips or not new.ips:
        return TraceChange(host_changed=False, changed_fields=changed)
    if old.asn is None and new.asn is None and old.cdn is None and new.cdn is None:
        host_changed = not set(old.ips) & set(new.ips)
    else:
        host_changed = (old.cdn, old.asn, old.hosting_country) != (new.cdn, new.asn, new.hosting_country)
    return TraceChange(host_changed=host_changed, changed_fields=changed)
