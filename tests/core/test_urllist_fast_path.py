"""The URL list's fast path (a URL already in canonical form skips the canonicaliser) gives exactly
what the full canonicaliser gives, on random URLs built to sit on both sides of the fast path's edge."""

from hypothesis import event, given, settings
from hypothesis import strategies as st

from openmnr.core.signals.url import canonicalize, is_tracking_parameter
from openmnr.core.urllist import expressions as module
from openmnr.core.urllist.expressions import InvalidURL, expressions, url_expressions

LABEL = st.sampled_from(["a", "b", "www", "cdn", "x-y", "0x7f", "1", "017", "site9", "A", "_u", "", "%41"])
HOST = st.lists(LABEL, min_size=1, max_size=7).map(".".join)
SEGMENT = st.sampled_from(
    ["d", "page.html", ".", "..", "", ".hidden", "a;b", "~u", "%2e", "%25", "é", " ", "a\\b", "x#y", "@", ":"]
)
PATH = st.lists(SEGMENT, max_size=6).map(lambda parts: "/" + "/".join(parts))
QUERY = st.one_of(st.none(), st.sampled_from(["", "id=1", "a=b&c=d", "q?r", "x//y", "a%20b", "s=/./"]))
PREFIX = st.sampled_from(["http://", "https://", "HTTP://", "", "http://user@", "ftp://"])
SUFFIX = st.sampled_from(["", ":80", "."])


def _full(url):
    try:
        return module._slow_expressions(url)
    except InvalidURL:
        return InvalidURL


def _reference_url_expressions(url):
    """url_expressions through the full canonicaliser only (what it was before the fast path)."""
    try:
        found = module._slow_expressions(url)
    except InvalidURL:
        return InvalidURL
    if isinstance(url, str) and url.isascii() and "\\" not in url:
        query = url.partition("#")[0].partition("?")[2]
        if not any(is_tracking_parameter(p.partition("=")[0]) for p in query.split("&")) or not query:
            return found
    try:
        case_form = canonicalize(url if isinstance(url, str) else url.decode("utf-8")).url
    except (InvalidURL, UnicodeDecodeError):
        return found
    return found + [e for e in module._slow_expressions(case_form) if e not in found]


def _looked_up(url):
    try:
        return url_expressions(url)
    except InvalidURL:
        return InvalidURL


def _either(url):
    try:
        return expressions(url)
    except InvalidURL:
        return InvalidURL


@settings(max_examples=600, deadline=None)
@given(PREFIX, HOST, SUFFIX, st.one_of(st.just(""), PATH), QUERY)
def test_the_fast_path_and_the_full_path_agree_on_structured_urls(prefix, host, suffix, path, query):
    url = prefix + host + suffix + path + ("" if query is None else "?" + query)
    event("fast path" if module._fast_split(url) is not None else "full path")
    assert _either(url) == _full(url)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="htps:/.?#%@abcAB0129-_~;=&\\ \té", max_size=40))
def test_the_fast_path_and_the_full_path_agree_on_arbitrary_text(url):
    url = "http://" + url if url[:1] != "h" else url
    event("fast path" if module._fast_split(url) is not None else "full path")
    assert _either(url) == _full(url)


PLAIN_LABEL = st.sampled_from(["a", "www", "x-y", "site9", "b_c", "com", "example", "0a", "z1"])
PLAIN_SEGMENT = st.sampled_from(["d", "page.html", "a;b", "~u", "x=1", "@", ":", "A", "", ".", "..", "(1)"])
PLAIN_QUERY = st.one_of(st.none(), st.sampled_from(["", "id=1", "a=b&c=d", "q?r", "x//y", "s=/./", "A=B"]))


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(["http://", "https://"]),
    st.lists(PLAIN_LABEL, min_size=1, max_size=7).map(".".join),
    st.one_of(st.just(""), st.lists(PLAIN_SEGMENT, max_size=7).map(lambda parts: "/" + "/".join(parts))),
    PLAIN_QUERY,
)
def test_the_fast_path_and_the_full_path_agree_on_mostly_canonical_urls(scheme, host, path, query):
    url = scheme + host + path + ("" if query is None else "?" + query)
    event("fast path" if module._fast_split(url) is not None else "full path")
    assert _either(url) == _full(url)


TRACKING_QUERY = st.sampled_from(
    ["utm_source=x", "UTM_Medium=y&id=1", "fbclid=1", "gclid", "id=1&gclid=2", "xutm_a=1"]
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://"]),
    st.lists(PLAIN_LABEL, min_size=1, max_size=5).map(".".join),
    st.one_of(st.just(""), st.lists(PLAIN_SEGMENT, max_size=4).map(lambda parts: "/" + "/".join(parts))),
    st.one_of(PLAIN_QUERY, TRACKING_QUERY),
)
def test_what_a_client_looks_up_is_what_the_full_path_gives(scheme, host, path, query):
    """url_expressions (the fast path, the tracking-parameter regex, the case form's second pass)
    against the same lookup made with the full canonicaliser only."""
    url = scheme + host + path + ("" if query is None else "?" + query)
    event("fast path" if module._fast_split(url) is not None else "full path")
    assert _looked_up(url) == _reference_url_expressions(url)


def test_common_urls_take_the_fast_path_and_odd_ones_do_not():
    for url in ("https://www.site1.example/d1/page.html?id=3", "http://a.b/", "http://localhost"):
        assert module._fast_split(url) is not None, url
    for url in (
        "http://WWW.example/",
        "http://example.com:80/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://a.example/%41",
        "http://a.example//b",
        "http://a.example/a/../b",
        "http://u@a.example/",
        "http://a.example./",
        "www.example.com/",
    ):
        assert module._fast_split(url) is None, url
