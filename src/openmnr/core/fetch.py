"""Fetch a reported URL without letting it reach the hotline's own network.

A reported URL is chosen by a stranger, so it may point at the hotline's database, a cloud metadata
service or a router (server-side request forgery). ``fetch`` therefore:

- accepts only http and https, and normalises each URL with ``openmnr.core.signals.url``;
- resolves the host itself and refuses it if *any* of its addresses is not publicly routable
  (``is_public_address``: private, loopback, link-local, shared/CGNAT, reserved, multicast,
  unspecified, documentation ranges, and IPv4 addresses hidden in IPv6 as IPv4-mapped, 6to4 or
  NAT64 forms);
- connects to an address it vetted rather than handing the name to a library that resolves it
  again, so a DNS answer that changes between check and use (DNS rebinding) gets nowhere; the name
  is still sent as the Host header and as TLS SNI, and the certificate is checked against it;
- does all of this again for every redirect, and follows at most ``MAX_REDIRECTS`` of them;
- bounds the time (connect, each read, and the whole fetch) and the body size.

It is written on the standard library's ``http.client`` because that is the smallest place where the
socket can be opened by our own code: ``connect`` is overridden to dial the vetted address. It reads
no proxy settings from the environment (urllib does), which keeps a configured proxy from silently
taking over the address checks. urllib3 could be pinned the same way but is not a dependency of the
project. Content is requested with ``Accept-Encoding: identity``; a server that compresses anyway is
returned as is, with its ``Content-Encoding`` header. Credentials written in a URL are not sent.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from openmnr.core.signals.url import InvalidURL, normalize_url

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "OpenMNR-hotline/0.1"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A URL could not be fetched. ``log`` holds the steps taken, the failed one last."""

    log: tuple["FetchStep", ...] = ()


class BadURL(FetchError):
    """The URL (or a redirect's target) is malformed."""


class BadScheme(BadURL):
    """The URL (or a redirect's target) is not http or https."""


class ResolveError(FetchError):
    """The host name could not be resolved."""


class BlockedAddress(FetchError):
    """The host resolves to an address that is not publicly routable; nothing was sent to it."""

    def __init__(self, message: str, address: IPAddress):
        super().__init__(message)
        self.address = address


class TransportError(FetchError):
    """The connection failed: refused, reset, a TLS or certificate error, or a malformed response."""


class FetchTimeout(FetchError):
    """Connecting, a read, or the whole fetch took longer than allowed."""


class TooManyRedirects(FetchError):
    """The server redirected more than ``max_redirects`` times."""


class TooLarge(FetchError):
    """The body is larger than ``max_bytes``; reading stopped there."""


@dataclass(frozen=True, slots=True)
class FetchStep:
    """One request, as the case page shows it."""

    url: str
    ip: str | None = None
    status: int | None = None
    redirect_to: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The final response. ``declared_type`` is the Content-Type header's media type ("" if none);
    ``sniffed_type`` is what the first bytes show (``sniff_type``), which is what to trust."""

    url: str
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    declared_type: str
    sniffed_type: str | None
    log: tuple[FetchStep, ...]


def fetch(
    url: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    connect_timeout: float = 5.0,
    read_timeout: float = 15.0,
    total_timeout: float = 60.0,
    allow_private: Iterable[str] = frozenset(),
    ssl_context: ssl.SSLContext | None = None,
    user_agent: str = USER_AGENT,
) -> FetchResult:
    """GET ``url``, following redirects, and return the final response whatever its status.

    ``allow_private`` lists addresses (such as ``"127.0.0.1"``) that may be reached although they
    are not public; it exists for tests and is empty in production. ``ssl_context`` replaces the
    system's default certificate checks (for a private CA). ``total_timeout`` is checked before
    each request and after each read of the body, so a fetch may overrun it by one
    ``read_timeout``; while the response headers arrive only ``read_timeout`` (per read) applies.
    Raises a ``FetchError`` subclass; its ``log`` ends with the step that failed.
    """
    allowed = frozenset(ipaddress.ip_address(address) for address in allow_private)
    deadline = time.monotonic() + total_timeout
    log: list[FetchStep] = []
    current = url
    for _ in range(max_redirects + 1):
        try:
            target = _check_url(current)
            if time.monotonic() > deadline:
                raise FetchTimeout(f"the fetch took longer than {total_timeout} s")
            ip, response, body = _get(
                target, allowed, connect_timeout, read_timeout, ssl_context, user_agent, max_bytes, deadline
            )
        except FetchError as exc:
            log.append(FetchStep(current, ip=_blocked_ip(exc), error=str(exc)))
            exc.log = tuple(log)
            raise
        location = response.getheader("Location")
        if response.status in REDIRECT_STATUSES and location:
            current = urljoin(target, location.strip())
            log.append(FetchStep(target, ip, response.status, redirect_to=current))
            continue
        log.append(FetchStep(target, ip, response.status))
        content_type = response.getheader("Content-Type") or ""
        return FetchResult(
            url=target,
            status=response.status,
            headers=response.msg,
            body=body,
            declared_type=content_type.partition(";")[0].strip().lower(),
            sniffed_type=sniff_type(body),
            log=tuple(log),
        )
    exc = TooManyRedirects(f"more than {max_redirects} redirects")
    exc.log = tuple(log)
    raise exc


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is publicly routable, judging an IPv4 address carried inside an IPv6 one
    (IPv4-mapped, 6to4, NAT64 64:ff9b::/96) by the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local:
            return False
    # is_global alone lets multicast through, so every property is checked.
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


_FTYP_BRANDS = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heic",
    b"msf1": "image/heic",
    b"qt  ": "video/quicktime",
}
# The WHATWG MIME sniffing standard's HTML signatures, each followed by a space or ">".
_HTML_STARTS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
)


def sniff_type(data: bytes) -> str | None:
    """The media type that the first bytes of ``data`` show, or ``None`` if none is recognised.

    Recognises JPEG, PNG, GIF, WebP, BMP, the ISO media family (MP4; AVIF, HEIC and QuickTime by
    brand), WebM/Matroska and HTML. A server's Content-Type is often wrong, and a media item must be
    handled as what it is.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM") and len(data) >= 26:
        return "image/bmp"
    if data[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(data[8:12], "video/mp4")
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    text = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip(b"\t\n\x0c\r ").lower()
    if any(
        text.startswith(start) and text[len(start) : len(start) + 1] in (b" ", b">") for start in _HTML_STARTS
    ):
        return "text/html"
    return None


def _check_url(url: str) -> str:
    scheme = urlsplit(url.strip()).scheme.lower() if isinstance(url, str) else ""
    if scheme not in _DEFAULT_PORTS:
        raise BadScheme(f"only http and https can be fetched, not {scheme or 'this'!r}")
    try:
        return normalize_url(url)
    except InvalidURL as exc:
        raise BadURL(str(exc)) from None


def _blocked_ip(exc: FetchError) -> str | None:
    return str(exc.address) if isinstance(exc, BlockedAddress) else None


def _resolve(host: str, port: int, allowed: frozenset[IPAddress]) -> list[IPAddress]:
    """Every address of ``host``, refusing the host if any one of them is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveError(f"{host} could not be resolved: {exc}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise ResolveError(f"{host} has no address")
    for address in addresses:
        if address not in allowed and not is_public_address(address):
            raise BlockedAddress(f"{host} resolves to {address}, which is not a public address", address)
    return addresses


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to an address vetted beforehand; ``host`` is used only for the Host
    header, SNI and the certificate check, never resolved."""

    def __init__(self, host, port, ip, connect_timeout, read_timeout, tls_context):
        super().__init__(host, port, timeout=read_timeout)
        self.ip = ip
        self.connect_timeout = connect_timeout
        self.tls_context = tls_context
        # http.client leaves the port out of the Host header when it is the default one.
        self.default_port = 443 if tls_context else 80

    def connect(self):
        sock = socket.create_connection((self.ip, self.port), timeout=self.connect_timeout)
        try:
            if self.tls_context is not None:
                sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _get(target, allowed, connect_timeout, read_timeout, ssl_context, user_agent, max_bytes, deadline):
    """One GET of a normalised URL: returns (ip, response, body); the body is b"" for a redirect."""
    parts = urlsplit(target)
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    addresses = _resolve(host, port, allowed)
    tls = (ssl_context or ssl.create_default_context()) if parts.scheme == "https" else None
    conn = _connect(host, port, addresses, connect_timeout, read_timeout, tls)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", path, headers={"User-Agent": user_agent, "Accept": "*/*"})
        response = conn.getresponse()
        body = b""
        if not (response.status in REDIRECT_STATUSES and response.getheader("Location")):
            body = _read_body(response, max_bytes, deadline)
        return conn.ip, response, body
    except TimeoutError:
        raise FetchTimeout(f"{host} did not answer within {read_timeout} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"the connection to {host} failed: {exc!r}") from None
    finally:
        conn.close()


def _connect(host, port, addresses, connect_timeout, read_timeout, tls):
    """Connect to the first vetted address that answers (IPv6 is often unreachable; IPv4 then is)."""
    error: Exception | None = None
    for address in addresses:
        conn = _PinnedConnection(host, port, str(address), connect_timeout, read_timeout, tls)
        try:
            conn.connect()
            return conn
        except TimeoutError as exc:
            error = FetchTimeout(f"{host} ({address}) did not accept a connection within {connect_timeout} s")
            error.__cause__ = exc
        except OSError as exc:
            error = TransportError(f"the connection to {host} ({address}) failed: {exc}")
    raise error


def _read_body(response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> bytes:
    declared = response.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"the body is {declared} bytes, more than the {max_bytes} allowed")
    chunks = []
    size = 0
    # read1 returns after one network read, so the deadline is checked even if the server drips.
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"the body is more than the {max_bytes} bytes allowed")
        if time.monotonic() > deadline:
            raise FetchTimeout("the fetch took longer than allowed")
        chunks.append(chunk)
    return b"".join(chunks)
