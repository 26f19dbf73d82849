"""URL expressions as Google Safe Browsing canonicalises them: what a blocking list holds.

A blocking list must match a URL however the user's browser, resolver or proxy spelled it, and an
entry may name a whole host or a directory as well as one page. Safe Browsing solved both with a
published algorithm that filtering products already implement, so the list uses it unchanged:

1. ``canonical``: drop the fragment, surrounding whitespace and embedded tab/CR/LF; percent-decode
   repeatedly until nothing changes; lower-case the host, trim and collapse its dots, read a numeric
   host (``3279880203``, ``0x7f.1``) as a dotted quad; drop user information and port; resolve
   ``.``/``..`` and collapse repeated slashes in the path (never in the query); then percent-encode
   every byte <= 0x20 or >= 0x7F and ``#`` and ``%``, in upper-case hex. Bytes, not characters:
   the published examples feed raw bytes, and a user's URL may not be valid UTF-8.
2. ``expressions``: the host suffixes (the exact host and up to four more, from the last five
   labels down to two; none for an IP address) times the path prefixes (the exact path with and
   without its query, and up to four directories from the root): at most 30 strings such as
   ``b.c/1/``. A list entry is one such expression; a URL is listed when any of its expressions is.

This is a different canonical form from ``openmnr.core.signals.url.canonicalize``, which decides
whether two reports name one case (it removes tracking parameters, keeps ``%2F`` apart from ``/``,
and converts international host names with IDNA). ``url_expressions`` therefore takes the union of
the expressions of the URL as given and of its case-canonical form, so a URL with a tracking
parameter or a Unicode host name still finds the entry made from its case.
"""

import hashlib
import ipaddress
import re

from openmnr.core.signals.url import (
    TRACKING_PARAMETERS,
    TRACKING_PREFIXES,
    InvalidURL,
    canonicalize,
    is_tracking_parameter,
)

__all__ = ["InvalidURL", "canonical", "expression_hash", "expressions", "url_expressions"]

#: How many times percent-decoding is repeated before the URL is refused as hostile.
MAX_UNESCAPE_ROUNDS = 1024
MAX_URL_BYTES = 8192

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_SCHEME = re.compile(rb"^([A-Za-z][A-Za-z0-9+.-]*)://")
_DOTS = re.compile(rb"\.{2,}")
_SLASHES = re.compile(rb"/{2,}")
_PORT = re.compile(rb":[0-9]*$")
_MUST_ESCAPE = frozenset(range(0x21)) | frozenset(range(0x7F, 0x100)) | {ord("#"), ord("%")}
_IPV4_PART = re.compile(rb"^(0[xX][0-9A-Fa-f]*|0[0-7]*|[1-9][0-9]*)$")


def _unescape(data: bytes) -> bytes:
    for _ in range(MAX_UNESCAPE_ROUNDS):
        decoded = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
        if decoded == data:
            return data
        data = decoded
    raise InvalidURL("the URL is percent-encoded too many times over")


def _escape(data: bytes) -> str:
    return "".join(f"%{b:02X}" if b in _MUST_ESCAPE else chr(b) for b in data)


def _ipv4(host: bytes) -> bytes | None:
    """A numeric host read the way browsers (and inet_aton) read it, or None if it is a name."""
    parts = host.split(b".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.match(p) for p in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2] in (b"0x", b"0X"):
            numbers.append(int(part[2:] or b"0", 16))
        elif len(part) > 1 and part.startswith(b"0"):
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(leading))
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0)).encode()


def _ipv6(host: bytes) -> bytes:
    """A bracketed IPv6 host without its port, in its RFC 5952 short form (as the case form has it)."""
    end = host.find(b"]")
    try:
        address = ipaddress.IPv6Address(host[1:end].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise InvalidURL("the IPv6 address in the URL is malformed") from None
    if address.ipv4_mapped is not None:  # written in hex, as the case form writes it
        high, low = divmod(int(address.ipv4_mapped), 0x10000)
        return f"[::ffff:{high:x}:{low:x}]".encode("ascii")
    return f"[{address.compressed}]".encode("ascii")


def _split(url: str | bytes) -> tuple[str, bytes, bytes, bytes | None]:
    data = url.encode("utf-8", "surrogatepass") if isinstance(url, str) else bytes(url)
    if len(data) > MAX_URL_BYTES:
        raise InvalidURL(f"the URL is longer than {MAX_URL_BYTES} bytes")
    data = data.split(b"#", 1)[0].strip(b" \t\r\n\x0b\x0c").translate(None, b"\t\r\n")
    data = _unescape(data)
    match = _SCHEME.match(data)
    scheme = "http"
    if match:
        scheme = match.group(1).decode("ascii").lower()
        data = data[match.end() :]
    if scheme not in ("http", "https"):
        raise InvalidURL("only http and https URLs are accepted")
    end = min((i for i in (data.find(b"/"), data.find(b"?")) if i >= 0), default=len(data))
    authority, rest = data[:end], data[end:]
    path, mark, query = rest.partition(b"?")
    host = authority.rpartition(b"@")[2]
    if host.startswith(b"["):
        host = _ipv6(host)
    else:
        host = _PORT.sub(b"", host)
    host = _DOTS.sub(b".", host.lower().strip(b"."))
    if not host:
        raise InvalidURL("the URL has no host")
    if b":" in host and not host.startswith(b"["):
        raise InvalidURL("only http and https URLs are accepted")
    host = _ipv4(host) or host
    path = _remove_dot_segments(_SLASHES.sub(b"/", path or b"/"))
    return scheme, host, path, query if mark else None


def _remove_dot_segments(path: bytes) -> bytes:
    if not path.startswith(b"/"):
        path = b"/" + path
    out: list[bytes] = []
    segments = path.split(b"/")[1:]
    for index, segment in enumerate(segments):
        if segment == b"..":
            if out:
                out.pop()
        elif segment != b".":
            out.append(segment)
            continue
        if index == len(segments) - 1:
            out.append(b"")
    return b"/" + b"/".join(out)


def canonical(url: str | bytes) -> str:
    """The Safe Browsing canonical form of ``url`` (``http://www.google.com/``); raises InvalidURL."""
    scheme, host, path, query = _split(url)
    text = f"{scheme}://{_escape(host)}{_escape(path)}"
    return text if query is None else f"{text}?{_escape(query)}"


def expressions(url: str | bytes) -> list[str]:
    """The host-suffix/path-prefix expressions of ``url``, most specific first, without duplicates."""
    if isinstance(url, str):
        fast = _fast_split(url)
        if fast is not None:
            return _combine(*fast)
    return _slow_expressions(url)


def _slow_expressions(url: str | bytes) -> list[str]:
    """``expressions`` through the whole canonicaliser, whatever the URL looks like."""
    _, host, path, query = _split(url)
    host_text = _escape(host)
    is_address = _ipv4(host) is not None or host.startswith(b"[")
    return _combine(host_text, is_address, _escape(path), None if query is None else _escape(query))


def _combine(host: str, is_address: bool, path: str, query: str | None) -> list[str]:
    """The expressions of a canonical host, path and query, by string slicing only. Hosts never
    hold ``/`` and paths start with it, so only the paths can repeat (``/`` as the exact path and
    as the root): deduplicating them deduplicates the expressions."""
    hosts = [host]
    if not is_address:  # up to four suffixes, from five labels down to two (not the host itself)
        suffixes = []
        dot = host.rfind(".")
        for _ in range(4):
            dot = host.rfind(".", 0, dot)
            if dot < 0:
                break
            suffixes.append(host[dot + 1 :])
        hosts += reversed(suffixes)
    paths = [path] if query is None else [f"{path}?{query}", path]
    end = 0
    for _ in range(4):  # the root and up to three directories below it
        end = path.find("/", end) + 1
        if not end:
            break
        directory = path[:end]
        if directory != path:
            paths.append(directory)
    return [h + p for h in hosts for p in paths]


#: A URL that the canonicaliser would leave unchanged (apart from adding nothing): scheme http(s) in
#: lower case; a host of lower-case labels whose last one starts with a letter (so it is no numeric
#: address), without user information or port; a path and query of visible ASCII without ``%``,
#: ``#`` or ``\``. Dot segments and double slashes are tested apart (``_fast_split``).
_CANONICAL = re.compile(
    r"(https?)://((?:[a-z0-9_-]+\.)*[a-z][a-z0-9_-]*)"
    r"(/[!\"$&->@-\[\]-~]*)?"  # visible ASCII but for # % ? and backslash
    r"(?:\?([!\"$&-\[\]-~]*))?"  # the same and ?
)


def _fast_split(url: str) -> tuple[str, bool, str, str | None] | None:
    """(host, False, path, query) of a URL already in canonical form, or None to take the full path.

    The common URL (what a proxy sees) needs none of the canonicaliser's steps: one compiled regex
    decides that, and the result is what the full path gives (a property test holds them equal)."""
    match = _CANONICAL.fullmatch(url)
    if match is None or len(url) > MAX_URL_BYTES:
        return None
    path = match.group(3) or "/"
    if "//" in path or "/." in path:
        return None  # collapse slashes or resolve dot segments: the full path does it
    return match.group(2), False, path, match.group(4)


def url_expressions(url: str | bytes) -> list[str]:
    """The expressions of ``url`` as given and of its case-canonical form (tracking parameters
    removed, IDNA host): what a client looks up, so that it finds the entries made from cases."""
    fast = _fast_split(url) if isinstance(url, str) else None
    if fast is not None:  # ASCII, no backslash, no '%': only a tracking parameter changes the case form
        found = _combine(*fast)
        if not fast[3] or _TRACKING.search(fast[3]) is None:
            return found
    else:
        found = _slow_expressions(url)
        if isinstance(url, str) and url.isascii() and "\\" not in url and not _has_tracking_parameter(url):
            return found  # the case form would give the same expressions: skip the second pass
    try:
        text = url if isinstance(url, str) else url.decode("utf-8")
        case_form = canonicalize(text).url
    except (InvalidURL, UnicodeDecodeError):
        return found
    return found + [e for e in expressions(case_form) if e not in found]


_TRACKING = re.compile(
    r"(?:^|&)(?:"
    + "|".join(map(re.escape, TRACKING_PREFIXES))
    + r"|(?:"
    + "|".join(map(re.escape, sorted(TRACKING_PARAMETERS)))
    + r")(?:[=&]|$))",
    re.IGNORECASE,
)


def _has_tracking_parameter(url: str) -> bool:
    """Whether the case form would drop a parameter of this (ASCII) URL's query. Without ``%`` one
    case-insensitive regex decides it; with one, each name is unescaped as the case form does."""
    query = url.partition("#")[0].partition("?")[2]
    if not query:
        return False
    if "%" not in query:
        return _TRACKING.search(query) is not None
    return any(is_tracking_parameter(p.partition("=")[0]) for p in query.split("&"))


def expression_hash(expression: str) -> bytes:
    """The full SHA-256 of an expression: what a list entry is, and what its prefix is cut from."""
    return hashlib.sha256(expression.encode("ascii")).digest()
