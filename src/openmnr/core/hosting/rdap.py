"""Abuse contacts and registrar from RDAP (RFC 9082 queries, RFC 9083 responses).

Two ways to say which servers to ask, chosen by the administrator:
- one base URL for every query (an RDAP redirector, or a local server in tests), or
- the IANA bootstrap files (RFC 9224: dns.json, ipv4.json, ipv6.json) read from a local folder that
  the operator keeps up to date. Nothing is fetched to find servers.

Requests only ever go to a configured base URL: a redirect elsewhere is refused, not followed.
Answers (and "not found") are kept in a small in-memory cache for `cache_ttl` seconds; errors are not
cached, so the next trace tries again.

Network access goes through the `Transport` interface (one method, `get`) so that a caller can put
its own HTTP client in front; `UrllibTransport` is the plain default.
"""

import http.client
import ipaddress
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from openmnr.core.hosting import HostingError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_BODY_BYTES = 4 * 1024 * 1024  # RDAP answers are a few KiB; anything far larger is not one.
MAX_ENTITY_DEPTH = 6  # abuse contacts sit at most two or three levels down in real answers


class RdapError(HostingError):
    """Base of the errors of this module."""


class RdapConfigError(RdapError):
    """The client was configured wrongly (no server, both kinds, unreadable bootstrap file)."""


class RdapNoServer(RdapError):
    """The bootstrap files name no RDAP server for this domain or address."""


class RdapNotAllowed(RdapError):
    """A request or a redirect would leave the configured base URLs."""


class RdapUnavailable(RdapError):
    """The server did not answer in time, refused, or answered with a server error or rate limit."""


class RdapBadResponse(RdapError):
    """The server answered with something that is not an RDAP JSON object."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class Transport(Protocol):
    def get(self, url: str, timeout: float) -> HttpResponse:
        """One GET without following redirects. Raises RdapUnavailable when no answer arrives."""
        ...


class UrllibTransport:
    """GET through urllib, redirects returned to the caller (so that each hop can be checked)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self) -> None:
        self._opener = urllib.request.build_opener(self._NoRedirect)

    def get(self, url: str, timeout: float) -> HttpResponse:
        request = urllib.request.Request(url, headers={"Accept": "application/rdap+json, application/json"})
        try:
            with self._opener.open(request, timeout=timeout) as response:
                return HttpResponse(response.status, _lower(response.headers), response.read(MAX_BODY_BYTES))
        except urllib.error.HTTPError as exc:
            with exc:
                return HttpResponse(exc.code, _lower(exc.headers), exc.read(MAX_BODY_BYTES))
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError covers URLError, refused connections and timeouts.
            raise RdapUnavailable(f"no answer from {url}: {exc}") from None


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()} if headers else {}


@dataclass(frozen=True)
class RdapRecord:
    """What one RDAP answer says about whom to contact."""

    url: str
    abuse_emails: tuple[str, ...]
    registrar: str | None  # set in domain answers


def _base(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _within(url: str, base: str) -> bool:
    target, allowed = urllib.parse.urlsplit(url), urllib.parse.urlsplit(base)
    return (
        target.scheme.lower() == allowed.scheme.lower()
        and target.netloc.lower() == allowed.netloc.lower()
        and target.path.startswith(allowed.path)
    )


def _prefer_https(urls: list[str]) -> list[str]:
    # RFC 9224 section 3: clients should prefer HTTPS where a service lists both.
    return sorted((_base(url) for url in urls), key=lambda url: not url.lower().startswith("https:"))


class Bootstrap:
    """The IANA RDAP bootstrap registries, read from files (RFC 9224)."""

    def __init__(self, domains: dict[str, list[str]], networks: list[tuple[Network, list[str]]]):
        self._domains = domains
        self._networks = networks

    @classmethod
    def load(cls, directory: Path | str) -> "Bootstrap":
        """Reads dns.json, ipv4.json and ipv6.json (IANA's names) from `directory`; a missing file
        means no server for that kind. Raises RdapConfigError for unreadable files."""
        folder = Path(directory)
        domains: dict[str, list[str]] = {}
        networks: list[tuple[Network, list[str]]] = []
        for file_name in ("dns.json", "ipv4.json", "ipv6.json"):
            path = folder / file_name
            if not path.exists():
                continue
            try:
                services = json.loads(path.read_text(encoding="utf-8"))["services"]
                for entries, urls in services:
                    for entry in entries:
                        if file_name == "dns.json":
                            domains[entry.lower().strip(".")] = _prefer_https(urls)
                        else:
                            networks.append((ipaddress.ip_network(entry), _prefer_https(urls)))
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
                raise RdapConfigError(f"bad RDAP bootstrap file {path}: {exc!r}") from None
        if not domains and not networks:
            raise RdapConfigError(f"no RDAP bootstrap file (dns.json, ipv4.json, ipv6.json) in {folder}")
        return cls(domains, networks)

    def for_domain(self, name: str) -> list[str]:
        """Base URLs for the longest matching entry (entries are TLDs or longer suffixes)."""
        labels = name.lower().strip(".").split(".")
        for start in range(len(labels)):
            urls = self._domains.get(".".join(labels[start:]))
            if urls:
                return urls
        return []

    def for_ip(self, address: str) -> list[str]:
        """Base URLs for the most specific network holding `address`."""
        ip = ipaddress.ip_address(address)
        matches = [(net, urls) for net, urls in self._networks if net.version == ip.version and ip in net]
        if not matches:
            return []
        return max(matches, key=lambda match: match[0].prefixlen)[1]

    def bases(self) -> set[str]:
        return {url for urls in self._domains.values() for url in urls} | {
            url for _, urls in self._networks for url in urls
        }


class RdapClient:
    """Looks up abuse contacts (IP and domain) and the registrar (domain).

    Give exactly one of `base_url` and `bootstrap`. `clock` returns seconds (monotonic) and exists so
    that tests can move time for the cache.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        bootstrap: Bootstrap | None = None,
        transport: Transport | None = None,
        timeout: float = 10.0,
        cache_ttl: float = 6 * 3600,
        cache_size: int = 4096,
        max_redirects: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ):
        if (base_url is None) == (bootstrap is None):
            raise RdapConfigError("give exactly one of base_url and bootstrap")
        self._base_url = _base(base_url) if base_url else None
        self._bootstrap = bootstrap
        self._allowed = {self._base_url} if self._base_url else bootstrap.bases()
        self._transport = transport or UrllibTransport()
        self._timeout = timeout
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._max_redirects = max_redirects
        self._clock = clock
        self._cache: dict[str, tuple[float, RdapRecord | None]] = {}

    def ip(self, address: str) -> RdapRecord | None:
        """Abuse contacts of the network holding `address`; None if the server does not know it."""
        try:
            ip = str(ipaddress.ip_address(address))
        except ValueError:
            raise RdapError(f"not an IP address: {address!r}") from None
        bases = [self._base_url] if self._base_url else self._bootstrap.for_ip(ip)
        if not bases:
            raise RdapNoServer(f"no RDAP server for {ip} in the bootstrap files")
        return self._fetch(bases[0] + "ip/" + ip)

    def domain(self, hostname: str) -> RdapRecord | None:
        """Abuse contacts and registrar of the registered domain above `hostname`.

        Without a public-suffix list the registered domain is found by asking for the hostname and
        then each parent (down to two labels) until a registry knows the name.
        """
        labels = hostname.lower().strip(".").split(".")
        for start in range(max(len(labels) - 1, 1)):
            name = ".".join(labels[start:])
            bases = [self._base_url] if self._base_url else self._bootstrap.for_domain(name)
            if not bases:
                raise RdapNoServer(f"no RDAP server for {name} in the bootstrap files")
            record = self._fetch(bases[0] + "domain/" + urllib.parse.quote(name))
            if record is not None:
                return record
        return None

    def _fetch(self, url: str) -> RdapRecord | None:
        now = self._clock()
        cached = self._cache.get(url)
        if cached is not None and cached[0] > now:
            return cached[1]

        record = self._fetch_uncached(url)

        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))  # oldest insertion first
        self._cache[url] = (now + self._cache_ttl, record)
        return record

    def _fetch_uncached(self, url: str) -> RdapRecord | None:
        current = url
        for _ in range(self._max_redirects + 1):
            if not any(_within(current, base) for base in self._allowed):
                raise RdapNotAllowed(f"refusing {current}: outside the configured RDAP servers")
            response = self._transport.get(current, self._timeout)
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                current = urllib.parse.urljoin(current, response.headers["location"])
                continue
            if response.status == 404:
                return None
            if response.status == 429 or response.status >= 500:
                raise RdapUnavailable(f"{current} answered HTTP {response.status}")
            if response.status != 200:
                raise RdapBadResponse(f"{current} answered HTTP {response.status}")
            try:
                data = json.loads(response.body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise RdapBadResponse(f"{current} did not answer with JSON") from None
            if not isinstance(data, dict):
                raise RdapBadResponse(f"{current} did not answer with a JSON object")
            abuse_emails, registrar = parse_contacts(data)
            return RdapRecord(url=current, abuse_emails=abuse_emails, registrar=registrar)
        raise RdapBadResponse(f"{url}: more than {self._max_redirects} redirects")


def parse_contacts(data: dict) -> tuple[tuple[str, ...], str | None]:
    """(abuse e-mail addresses, registrar name) from an RFC 9083 object.

    Abuse contacts are entities with the role "abuse" at any depth (registries often nest the
    registrar's abuse contact inside the registrar entity); the registrar is the first entity with
    the role "registrar", named by its vCard "fn".
    """
    abuse: list[str] = []
    registrar: str | None = None

    def walk(entities, depth: int) -> None:
        nonlocal registrar
        if depth > MAX_ENTITY_DEPTH or not isinstance(entities, list):
            return
        for entity in entities:
            if not isinstance(entity, dict):
                continue
            roles = entity.get("roles") or []
            if "abuse" in roles:
                for email in _vcard_values(entity.get("vcardArray"), "email"):
                    if email not in abuse:
                        abuse.append(email)
            if "registrar" in roles and registrar is None:
                names = _vcard_values(entity.get("vcardArray"), "fn")
                registrar = names[0] if names else entity.get("handle")
            walk(entity.get("entities"), depth + 1)

    walk(data.get("entities"), 0)
    return tuple(abuse), registrar


def _vcard_values(vcard_array, property_name: str) -> list[str]:
    """Values of one jCard property (RFC 7095): ["vcard", [[name, params, type, value], ...]]."""
    if not (isinstance(vcard_array, list) and len(vcard_array) == 2 and isinstance(vcard_array[1], list)):
        return []
    values = []
    for item in vcard_array[1]:
        if (
            isinstance(item, list)
            and len(item) >= 4
            and item[0] == property_name
            and isinstance(item[3], str)
        ):
            value = item[3].strip()
            if property_name == "email":
                value = value.removeprefix("mailto:").lower()
            if value:
                values.append(value)
    return values
