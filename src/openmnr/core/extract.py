"""Find the media a web page shows or links to, so triage can fetch and hash each item.

Reported URLs are often pages rather than media. ``extract_media_urls`` reads a page with the
standard library's forgiving ``html.parser`` (no script runs, nothing is fetched) and returns, in
document order and without duplicates, the URLs of:

- ``<img src>``, every candidate of ``<img srcset>``, and the lazy-loading ``data-src`` and
  ``data-srcset`` that many sites use instead;
- ``<source src>`` and ``<source srcset>`` (inside ``<picture>``, ``<video>`` and ``<audio>``);
- ``<video src>``, ``<video poster>`` and ``<audio src>``;
- Open Graph and Twitter card images and videos (``og:image``, ``og:video``, ``twitter:image``...);
- ``<a href>`` links that point straight at a media file (``MEDIA_EXTENSIONS``).

Each is resolved against the page's ``<base href>`` (or the page URL) and normalised with
``openmnr.core.signals.url.normalize_url``; anything that is not http(s) (``data:``, ``blob:``,
``javascript:``) or is malformed is skipped. Media inlined as ``data:`` URLs are therefore not
returned.
"""

import posixpath
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from openmnr.core.signals.url import InvalidURL, normalize_url

DEFAULT_LIMIT = 200

#: File extensions that make an ``<a href>`` a direct media link (compared in lower case).
MEDIA_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".gif",
        ".webp",
        ".bmp",
        ".avif",
        ".heic",
        ".tif",
        ".tiff",
        ".mp4",
        ".m4v",
        ".mov",
        ".webm",
        ".mkv",
        ".avi",
        ".wmv",
        ".mpg",
        ".mpeg",
        ".3gp",
    }
)

#: ``<meta property=...>`` / ``<meta name=...>`` values whose content is a media URL.
MEDIA_META = frozenset(
    {
        "og:image",
        "og:image:url",
        "og:image:secure_url",
        "og:video",
        "og:video:url",
        "og:video:secure_url",
        "twitter:image",
        "twitter:image:src",
        "twitter:player:stream",
    }
)

# Which attributes of which elements hold media URLs; srcset-style attributes hold several.
_URL_ATTRIBUTES = {
    "img": ("src", "data-src"),
    "source": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
}
_SRCSET_ATTRIBUTES = {"img": ("srcset", "data-srcset"), "source": ("srcset",)}
_WHITESPACE = "\t\n\x0c\r "


def extract_media_urls(
    html: str | bytes, page_url: str, *, limit: int = DEFAULT_LIMIT, encoding: str = "utf-8"
) -> list[str]:
    """The media URLs in ``html``, absolute and normalised, in document order, at most ``limit``.

    ``page_url`` is where the page was fetched from (the fetcher's final URL); relative URLs are
    resolved against it or against the page's ``<base href>``. ``html`` given as bytes is decoded
    with ``encoding``, undecodable bytes replaced. Raises ``InvalidURL`` if ``page_url`` is not an
    http(s) URL.
    """
    page_url = normalize_url(page_url)
    if isinstance(html, bytes):
        html = html.decode(encoding, errors="replace")
    parser = _MediaParser()
    parser.feed(html)
    parser.close()

    # A <base href> applies to the whole document, also to URLs written before it.
    base = page_url
    if parser.base_href is not None:
        base = _absolute(page_url, parser.base_href) or page_url

    found: dict[str, None] = {}
    for raw, media_link in parser.candidates:
        url = _absolute(base, raw)
        if url is None or (media_link and not _has_media_extension(url)):
            continue
        found[url] = None
        if len(found) >= limit:
            break
    return list(found)


def parse_srcset(value: str) -> list[str]:
    """The URLs of a ``srcset`` attribute, following the HTML standard's parsing rules.

    A URL may itself contain commas (image CDNs write ``w_100,h_80``), so candidates are not simply
    split on commas: a URL runs to the next whitespace, and its descriptors to the next comma.
    """
    urls = []
    position, end = 0, len(value)
    while True:
        while position < end and (value[position] in _WHITESPACE or value[position] == ","):
            position += 1
        if position >= end:
            return urls
        start = position
        while position < end and value[position] not in _WHITESPACE:
            position += 1
        url = value[start:position]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            in_parens = False  # descriptors may hold commas inside parentheses
            while position < end and (value[position] != "," or in_parens):
                if value[position] in "()":
                    in_parens = value[position] == "("
                position += 1
        if url:
            urls.append(url)


class _MediaParser(HTMLParser):
    """Collects (raw URL, is a link that counts only if it names a media file) in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.candidates: list[tuple[str, bool]] = []
        self.base_href: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name: value for name, value in attrs if value is not None}
        for name in _URL_ATTRIBUTES.get(tag, ()):
            if name in attributes:
                self.candidates.append((attributes[name], False))
        for name in _SRCSET_ATTRIBUTES.get(tag, ()):
            if name in attributes:
                self.candidates.extend((url, False) for url in parse_srcset(attributes[name]))
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
            if key in MEDIA_META and "content" in attributes:
                self.candidates.append((attributes["content"], False))
        elif tag == "a" and "href" in attributes:
            self.candidates.append((attributes["href"], True))
        elif tag == "base" and "href" in attributes and self.base_href is None:
            self.base_href = attributes["href"]


def _absolute(base: str, raw: str) -> str | None:
    raw = raw.strip(_WHITESPACE)
    if not raw:
        return None
    try:
        return normalize_url(urljoin(base, raw))
    except (InvalidURL, ValueError):
        return None


def _has_media_extension(url: str) -> bool:
    return posixpath.splitext(urlsplit(url).path)[1].lower() in MEDIA_EXTENSIONS
