"""A/AAAA addresses and the CNAME chain of a hostname.

Lookups go through the small `Resolver` interface so that callers choose where answers come from:
`DnspythonResolver` asks real DNS servers (the system's, or the ones given), `StaticResolver`
answers from a dict (tests, offline demos). `resolve()` follows the CNAME chain itself, one name at a
time, so every resolver only has to answer "records of this type at this name".
"""

import ipaddress
from dataclasses import dataclass
from typing import Protocol

import dns.exception
import dns.resolver

from openmnr.core.hosting import HostingError

RECORD_TYPES = ("A", "AAAA", "CNAME")
# RFC 1034 does not cap chains; resolvers in practice give up around 8-16 hops.
MAX_CNAME_HOPS = 10


class DnsError(HostingError):
    """A lookup failed for a reason other than the name not existing (timeout, server failure)."""


class NameNotFound(DnsError):
    """The name does not exist (NXDOMAIN). Monitoring counts this as a miss."""


class InvalidHostname(HostingError):
    """The text given is not a hostname that DNS could hold."""


class CnameLoop(DnsError):
    """The CNAME chain loops or is longer than MAX_CNAME_HOPS."""


class Resolver(Protocol):
    def lookup(self, name: str, rdtype: str) -> list[str]:
        """Records of `rdtype` ("A", "AAAA" or "CNAME") at `name`, as text; [] when the name exists
        without such records. Raises NameNotFound when the name does not exist, DnsError otherwise."""
        ...


@dataclass(frozen=True)
class Resolution:
    """What DNS said about a hostname.

    cname_chain lists the names the hostname points to, in order (not the hostname itself); the
    addresses belong to the last name of the chain, IPv4 first, each family in the server's order.
    """

    hostname: str
    cname_chain: tuple[str, ...]
    addresses: tuple[str, ...]


def normalise_hostname(hostname: str) -> str:
    """Lower-case ASCII (IDNA) form without the trailing dot; raises InvalidHostname."""
    name = hostname.strip().rstrip(".").lower()
    if not name or len(name) > 253:
        raise InvalidHostname(f"not a hostname: {hostname!r}")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidHostname(f"not a hostname: {hostname!r} ({exc})") from None
    for label in ascii_name.split("."):
        if not label or len(label) > 63 or not all(c.isalnum() or c in "-_" for c in label):
            raise InvalidHostname(f"not a hostname: {hostname!r}")
    return ascii_name


def resolve(hostname: str, resolver: Resolver) -> Resolution:
    """Follow the CNAME chain of `hostname` and collect the A and AAAA addresses at its end.

    An IP literal resolves to itself without a lookup. Raises InvalidHostname, NameNotFound,
    CnameLoop or DnsError.
    """
    try:
        literal = ipaddress.ip_address(hostname.strip().strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        return Resolution(hostname=str(literal), cname_chain=(), addresses=(str(literal),))

    name = normalise_hostname(hostname)
    chain: list[str] = []
    current = name
    while True:
        targets = resolver.lookup(current, "CNAME")
        if not targets:
            break
        # A name holds at most one CNAME (RFC 1034 3.6.2); a second one would be a broken zone.
        target = normalise_hostname(targets[0])
        if target == name or target in chain or len(chain) >= MAX_CNAME_HOPS:
            raise CnameLoop(f"CNAME chain of {name} loops or exceeds {MAX_CNAME_HOPS} hops")
        chain.append(target)
        current = target

    addresses: list[str] = []
    for rdtype in ("A", "AAAA"):
        for text in resolver.lookup(current, rdtype):
            try:
                address = str(ipaddress.ip_address(text))
            except ValueError:
                raise DnsError(f"{current} {rdtype} record is not an address: {text!r}") from None
            if address not in addresses:
                addresses.append(address)
    return Resolution(hostname=name, cname_chain=tuple(chain), addresses=tuple(addresses))


class DnspythonResolver:
    """Real DNS through dnspython: the system's servers, or `nameservers` on `port`."""

    def __init__(self, nameservers: list[str] | None = None, port: int = 53, timeout: float = 5.0):
        self._resolver = dns.resolver.Resolver(configure=nameservers is None)
        if nameservers is not None:
            self._resolver.nameservers = list(nameservers)
        self._resolver.port = port
        self._resolver.lifetime = timeout

    def lookup(self, name: str, rdtype: str) -> list[str]:
        if rdtype not in RECORD_TYPES:
            raise ValueError(f"unsupported record type {rdtype!r}")
        try:
            answer = self._resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            raise NameNotFound(f"{name} does not exist") from None
        except dns.exception.Timeout:
            raise DnsError(f"DNS lookup of {name} {rdtype} timed out") from None
        except dns.exception.DNSException as exc:
            raise DnsError(f"DNS lookup of {name} {rdtype} failed: {exc}") from None
        if answer.rrset is None:
            return []
        return [rdata.to_text() for rdata in answer.rrset]


class StaticResolver:
    """Answers from a dict {(name, rdtype): [records]}; names absent from every key do not exist.

    For tests and offline demos, where no packet may leave the machine.
    """

    def __init__(self, records: dict[tuple[str, str], list[str]]):
        self._records = {
            (name.rstrip(".").lower(), rdtype): list(values) for (name, rdtype), values in records.items()
        }
        self._names = {name for name, _ in self._records}

    def lookup(self, name: str, rdtype: str) -> list[str]:
        key = name.rstrip(".").lower()
        if key not in self._names:
            raise NameNotFound(f"{name} does not exist")
        return list(self._records.get((key, rdtype), []))
