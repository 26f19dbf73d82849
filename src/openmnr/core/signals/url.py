"""URL canonicalisation, and the ``url`` signal type built on it.

Two reports of the same web resource must land in the same case, however the reporter spelled the
URL. ``canonicalize`` turns a URL into one canonical spelling and gives its SHA-256, which is what a
case, a bank and a hash list store:

- scheme and host lower-cased; only ``http`` and ``https`` are accepted;
- the host converted to ASCII with IDNA 2008 / UTS #46 (the ``idna`` package, non-transitional, as
  browsers do: ``faß.de`` stays distinct from ``fass.de``); the stdlib ``encodings.idna`` codec is not
  used because it implements the obsolete IDNA 2003;
- IPv4 hosts written in decimal, hex or octal (``http://0x7f.1/``) rewritten as dotted quads, as
  browsers read them; IPv6 hosts written in their RFC 5952 short form;
- a trailing dot on the host dropped, and the default port (80, 443) dropped;
- percent-encoding normalised: unreserved characters decoded, other escapes in upper-case hex,
  characters that may not appear raw (spaces, non-ASCII) encoded as UTF-8;
- dot segments (``.``, ``..``) resolved, an empty path written ``/``;
- tracking parameters (``TRACKING_PARAMETERS`` and any ``utm_*``) and empty parameters removed from
  the query, and an empty query dropped; the order of the other parameters is kept, because a
  server may read it;
- the fragment dropped (it is never sent to the server).

Anything else is kept as written, because it may name a different resource: path case, ``%2F``
against ``/``, ``+`` in the query, the user information before ``@``. ``normalize_url`` does all of
the above except removing tracking parameters; the fetcher uses it, so it requests exactly what the
server was asked for, only spelled cleanly.
"""

import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import idna

from openmnr.core.signals.base import (
    LIMITS,
    Comparison,
    ContentType,
    HashValue,
    InvalidSignalValue,
    Limits,
    SignalType,
)

#: Longest URL accepted, in characters. Longer input is refused rather than processed.
MAX_URL_LENGTH = 8192

#: Query parameters that only track a click or a campaign and never select content. Compared
#: case-insensitively after percent-decoding; any parameter starting with ``utm_`` is removed too.
TRACKING_PARAMETERS = frozenset(
    {
        # Google (Ads, Analytics, Search)
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "_ga",
        "_gl",
        "srsltid",
        # Meta (Facebook, Instagram)
        "fbclid",
        "igshid",
        "igsh",
        # Microsoft, Yandex, X/Twitter, TikTok, LinkedIn
        "msclkid",
        "yclid",
        "ysclid",
        "twclid",
        "ref_src",
        "ref_url",
        "ttclid",
        "li_fat_id",
        # E-mail marketing (Mailchimp, HubSpot, Marketo, Vero)
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "mkt_tok",
        "vero_id",
        "vero_conv",
    }
)
TRACKING_PREFIXES = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_USERINFO_SAFE = _UNRESERVED | _SUB_DELIMS | {":"}
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | {":", "@", "/"}
_QUERY_SAFE = _PATH_SAFE | {"?"}
_HEX = frozenset("0123456789abcdefABCDEF")
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


class InvalidURL(ValueError):
    """The text is not an http or https URL that can be canonicalised."""


@dataclass(frozen=True, slots=True)
class CanonicalURL:
    """A URL in canonical form (pure ASCII) and the SHA-256 of that form, in lower-case hex."""

    url: str
    sha256: str


def canonicalize(url: str) -> CanonicalURL:
    """Return the canonical form of ``url`` and its SHA-256; raise ``InvalidURL`` if it has none."""
    canonical = _normalize(url, drop_tracking=True)
    return CanonicalURL(canonical, hashlib.sha256(canonical.encode("ascii")).hexdigest())


def normalize_url(url: str) -> str:
    """Return ``url`` normalised like ``canonicalize`` does, but with every query parameter kept."""
    return _normalize(url, drop_tracking=False)


_NON_ASCII_ESCAPES = re.compile(r"(?:%[89A-Fa-f][0-9A-Fa-f])+")


def display_url(url: str) -> str:
    """``url`` as a person reads it: punycode host labels (``xn--``) in Unicode and percent-escaped
    UTF-8 (non-ASCII characters only) decoded. For display only, never for matching or fetching:
    escapes of ASCII characters (``%2F``, ``%20``) stay as they are, since decoding them could make
    two different addresses look the same, and a label or escape that does not decode is left
    encoded, as are invisible and direction-changing characters. The encoded form stays the one
    that is stored and hashed; pages show it beside the decoded one when they differ."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    host = parts.hostname or ""
    if "xn--" in host:
        labels = []
        for label in host.split("."):
            try:
                labels.append(idna.decode(label) if label.startswith("xn--") else label)
            except (idna.IDNAError, UnicodeError):
                labels.append(label)
        netloc = netloc.replace(host, ".".join(labels), 1)

    def decode(match: re.Match) -> str:
        try:
            text = unquote(match.group(0), errors="strict")
        except UnicodeDecodeError:
            return match.group(0)
        # Invisible or direction-changing characters (categories C* and Z*) stay escaped: decoded,
        # they could make an address read as another one.
        if any(unicodedata.category(char)[0] in "CZ" for char in text):
            return match.group(0)
        return text

    rest = url[len(f"{parts.scheme}://{parts.netloc}") :] if "://" in url else ""
    if not rest and "://" not in url:
        return _NON_ASCII_ESCAPES.sub(decode, url)
    return f"{parts.scheme}://{netloc}" + _NON_ASCII_ESCAPES.sub(decode, rest)


def is_tracking_parameter(name: str) -> bool:
    """Whether a query parameter name (raw, as in the URL) is one that canonicalisation removes."""
    name = unquote(name).lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def _normalize(url: str, *, drop_tracking: bool) -> str:
    if not isinstance(url, str):
        raise InvalidURL(f"a URL must be text, not {type(url).__name__}")
    # Browsers ignore surrounding spaces and control characters; reporters paste them.
    url = url.strip(_C0_AND_SPACE)
    if not url:
        raise InvalidURL("the URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    # Browsers read a backslash before the query as a slash in http(s) URLs; so must we, or
    # "http://a.example\\@b.example/" would name a different host here than in the reporter's browser.
    end = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
    url = url[:end].replace("\\", "/") + url[end:]
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise InvalidURL(f"the URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL("only http and https URLs are accepted")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host, port = _split_host_port(hostport)
    host = _normalize_host(host)
    if port == _DEFAULT_PORTS[scheme]:
        port = None

    authority = host if port is None else f"{host}:{port}"
    if userinfo:
        authority = f"{_normalize_percent(userinfo, _USERINFO_SAFE)}@{authority}"
    path = _remove_dot_segments(_normalize_percent(parts.path, _PATH_SAFE) or "/")
    query = _normalize_query(parts.query, drop_tracking)
    return f"{scheme}://{authority}{path}" + (f"?{query}" if query else "")


def _split_host_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise InvalidURL("the IPv6 address in the URL is malformed")
        port_text = rest[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
        raise InvalidURL(f"the port {port_text!r} is not a number from 0 to 65535")
    return host, int(port_text)


def _normalize_host(host: str) -> str:
    if host.startswith("["):
        return _normalize_ipv6(host[1:-1])
    # Browsers decode percent-escapes in the host before IDNA, so "ex%41mple.com" is example.com.
    host = unquote(host)
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise InvalidURL("the URL has no host")
    if host.isascii():
        host = host.lower()
    else:
        try:
            host = idna.encode(host, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidURL(f"the host is not a valid internationalised domain name: {exc}") from None
    labels = host.split(".")
    if _is_ipv4_number(labels[-1]):
        return _parse_ipv4(labels)
    if len(host) > 253 or not all(_ASCII_LABEL.fullmatch(label) for label in labels):
        raise InvalidURL(f"the host {host!r} is not a valid domain name")
    for label in labels:
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError):
                raise InvalidURL(f"the host label {label!r} is not valid punycode") from None
    return host


def _normalize_ipv6(text: str) -> str:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise InvalidURL(f"{text!r} is not an IPv6 address") from None
    if address.scope_id:
        raise InvalidURL("IPv6 zone identifiers are not accepted in URLs")
    mapped = address.ipv4_mapped
    if mapped is not None:
        # Written in hex because Python 3.13 began printing these with a dotted quad; a canonical
        # form must not change with the Python version.
        high, low = divmod(int(mapped), 0x10000)
        return f"[::ffff:{high:x}:{low:x}]"
    return f"[{address.compressed}]"


def _is_ipv4_number(label: str) -> bool:
    """Whether a host's last label is a number, which makes the host an IPv4 address (WHATWG)."""
    return bool(label) and (label.isdigit() or _parse_ipv4_number(label) is not None)


def _parse_ipv4_number(text: str) -> int | None:
    base = 10
    if text[:2] in ("0x", "0X"):
        text, base = text[2:], 16
    elif len(text) > 1 and text.startswith("0"):
        text, base = text[1:], 8
    if not text:
        return 0
    try:
        return int(text, base) if text.isascii() and text.isalnum() else None
    except ValueError:
        return None


def _parse_ipv4(labels: list[str]) -> str:
    """Read a host such as ``127.1`` or ``0x7f000001`` the way browsers do, as a dotted quad."""
    numbers = [_parse_ipv4_number(label) if label else None for label in labels]
    if len(numbers) > 4 or None in numbers:
        raise InvalidURL(f"the host {'.'.join(labels)!r} is neither a domain name nor an IPv4 address")
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise InvalidURL(f"the IPv4 address {'.'.join(labels)!r} is out of range")
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(leading))
    return str(ipaddress.IPv4Address(value))


def _normalize_percent(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape what may not be raw."""
    out = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%" and text[i + 1 : i + 2] in _HEX and text[i + 2 : i + 3] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if char in safe:
            out.append(char)
        else:
            # A lone "%" is escaped too: servers read it as a literal percent sign.
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass")))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for a path that starts with "/"."""
    segments = path.split("/")[1:]
    out: list[str] = []
    for index, segment in enumerate(segments):
        is_last = index == len(segments) - 1
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
            continue
        if is_last:
            # "/a/b/.." names the directory "/a/", so the trailing slash stays.
            out.append("")
    return "/" + "/".join(out)


def _normalize_query(query: str, drop_tracking: bool) -> str:
    params = _normalize_percent(query, _QUERY_SAFE).split("&")
    return "&".join(
        param
        for param in params
        if param and not (drop_tracking and is_tracking_parameter(param.partition("=")[0]))
    )


class UrlSignal(SignalType):
    """The ``url`` signal type: the SHA-256 of a URL's canonical form (see ``canonicalize``).

    The value is a digest rather than the URL so URL lists can be shared and matched without
    spelling out where the material is. Two URLs match when their canonical forms are equal.
    """

    name = "url"
    label = "URL"
    description = "SHA-256 of the URL's canonical form, 64 hexadecimal digits."
    content_types = (ContentType.URL,)
    order = 50
    digits = 64
    key_bytes = 32

    @classmethod
    def hash_bytes(cls, data: bytes, *, limits: Limits = LIMITS) -> HashValue:
        """Hash a URL given as UTF-8 bytes; raise ``InvalidURL`` if it is not a usable URL."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidURL("the URL is not valid UTF-8") from None
        return HashValue(canonicalize(text).sha256)

    @classmethod
    def validate(cls, value: str) -> str:
        """Return ``value`` as 64 lower-case hex digits or raise ``InvalidSignalValue``."""
        normalized = value.strip().lower()
        if len(normalized) != 64 or not set(normalized) <= set("0123456789abcdef"):
            raise InvalidSignalValue("a url signal is the SHA-256 of a canonical URL: 64 hex digits")
        return normalized

    @classmethod
    def compare(cls, a: str, b: str, threshold: int | None = None) -> Comparison:
        """Exact: the two digests are equal or they are not; ``threshold`` is ignored."""
        return Comparison(a == b, 0 if a == b else 1)
