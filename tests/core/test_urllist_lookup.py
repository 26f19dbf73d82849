"""The client's fast local test (``lookup.PrefixLookup``) answers exactly what hashing every
expression of ``url_expressions`` answers, whatever the URL, the list and the state of its cache; a
new list is never answered from the old list's cache; a batch over two processes answers as one."""

import hashlib
import threading
import warnings

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import event, given, settings
from hypothesis import strategies as st

from openmnr.core.urllist import listformat
from openmnr.core.urllist.client import PARALLEL_BATCH, UrlListClient
from openmnr.core.urllist.expressions import InvalidURL, url_expressions
from openmnr.core.urllist.lookup import PrefixLookup, local_many

LABEL = st.sampled_from(["a", "b", "www", "x-y", "site9", "com", "0a", "A", "1", "_u", ""])
HOST = st.lists(LABEL, min_size=1, max_size=6).map(".".join)
SEGMENT = st.sampled_from(
    ["d", "e", "page.html", "", ".", "..", "~u", "x=1", "A", "%41", " ", "é", "\\", ":", "@"]
)
PATH = st.one_of(st.just(""), st.lists(SEGMENT, max_size=6).map(lambda parts: "/" + "/".join(parts)))
QUERY = st.one_of(
    st.none(),
    st.sampled_from(["", "id=1", "a=b&c=d", "q?r", "x//y", "utm_source=x", "id=1&GCLID=2", "%20", "a#b"]),
)
SCHEME = st.sampled_from(["http://", "https://", "https://", "HTTP://", "", "ftp://", "http://u@"])
PORT = st.sampled_from(["", "", "", ":80", "."])
ODD_URL = st.builds(
    lambda scheme, host, port, path, query: (
        scheme + host + port + path + ("" if query is None else "?" + query)
    ),
    SCHEME,
    HOST,
    PORT,
    PATH,
    QUERY,
)
# Mostly what the fast path takes, on a few hosts and directories so that keys repeat.
PLAIN_URL = st.builds(
    lambda scheme, host, path, query: scheme + host + path + ("" if query is None else "?" + query),
    st.sampled_from(["http://", "https://"]),
    st.sampled_from(["a.b", "www.a.b", "x.y.a.b", "c.d.e.f.g.h", "localhost", "b"]),
    st.lists(st.sampled_from(["d", "e", "page.html", "x=1", "(1)", "", "."]), max_size=5).map(
        lambda parts: "/" + "/".join(parts)
    ),
    st.one_of(st.none(), st.sampled_from(["", "id=1", "q?r", "x//y", "s=/./", "utm_medium=y"])),
)
URL = st.one_of(PLAIN_URL, PLAIN_URL, ODD_URL)

KEY = Ed25519PrivateKey.generate()


def _prefix(expression: str) -> bytes:
    return hashlib.sha256(expression.encode("ascii")).digest()[:4]


def _answer(check, url):
    try:
        return check(url)
    except InvalidURL:
        return InvalidURL


def _listing(urls: list[str], picks: set[int]) -> list[bytes]:
    """Some of the expressions of some URLs (by position in their concatenation): an exact page,
    a directory, a host, as the draw falls."""
    found = []
    for url in urls:
        try:
            found += url_expressions(url)
        except InvalidURL:
            pass
    return [_prefix(e) for n, e in enumerate(found) if n in picks]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(URL, min_size=1, max_size=10),
    st.lists(URL, max_size=4),
    st.sets(st.integers(0, 60), max_size=3),
    st.integers(1, 6),
)
def test_the_fast_lookup_answers_what_hashing_every_expression_answers(urls, listed, picks, cache_size):
    """Each URL twice (the second time with the cache filled), with URLs of the list among them,
    and a small cache so that it is emptied on the way."""
    lookup = PrefixLookup(_listing(listed, picks), cache_size=cache_size)
    for url in urls + listed + urls[::-1] + listed:
        expected = _answer(lookup.reference, url)
        event("listed" if expected not in ([], InvalidURL) else "not listed")
        assert _answer(lookup.candidates, url) == expected, url
    event("a key was cached" if lookup._clean else "no key cached")


def test_a_directory_listed_after_its_key_was_cached_is_found_after_the_update():
    """The cache is the answer of one list: the next list starts with an empty one."""

    class Transport:
        def __init__(self):
            self.listed: list[str] = []
            self.version = 0

        def snapshot(self):
            self.version += 1
            payload = listformat.snapshot_payload(
                "x",
                self.version,
                {_prefix(e) for e in self.listed},
                prefix_bytes=4,
                min_wait=1,
                generated_at="t",
            )
            return listformat.sign(payload, KEY)

    transport = Transport()
    client = UrlListClient(transport, KEY.public_key(), name="x")
    transport.listed = ["other.example/"]
    client.update(now=0)
    url = "https://www.bad.example/gallery/2024/1.jpg"
    assert client.candidates(url) == [] and client.candidates(url.replace("1.jpg", "2.jpg")) == []
    transport.listed = ["bad.example/gallery/"]
    client.state = listformat.ListState("x")  # a snapshot, not a diff, for this fake server
    client.update(now=10)
    assert [e for e, _ in client.candidates(url)] == ["bad.example/gallery/"]


def test_a_long_batch_over_two_processes_answers_as_one_process_does():
    urls = [
        f"https://www.site{n % 300}.example/d{n % 7}/page{n}.html?id={n}" for n in range(PARALLEL_BATCH + 500)
    ]
    urls[5] = "ftp://site.example/"
    urls[PARALLEL_BATCH + 7] = "HTTP://WWW.SITE1.EXAMPLE/d1/"
    listed = ["site1.example/d1/", "www.site2.example/d2/page2.html?id=2"]
    state = listformat.ListState("x", 4, 1, sorted(_prefix(e) for e in listed), 1, "")
    client = UrlListClient(None, None, state=state, processes=2)
    try:
        together = client.local_many(urls)
        assert client._pool is not None, "the batch went to the workers"
    finally:
        client.close()
    alone = local_many(PrefixLookup(state.prefixes), urls)
    assert together == alone
    assert together[5] is None and together[PARALLEL_BATCH + 7] and together[2]


def test_the_pool_starts_its_workers_without_forking_a_process_that_runs_threads():
    """Python warns (DeprecationWarning) when a multi-threaded process forks; a proxy runs threads,
    so the pool must start its workers by a fork server or spawn, with the list sent as bytes."""
    urls = [f"https://site{n % 50}.example/d/page{n}.html" for n in range(PARALLEL_BATCH)]
    listed = ["site7.example/d/"]
    state = listformat.ListState("x", 4, 1, sorted(_prefix(e) for e in listed), 1, "")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    client = UrlListClient(None, None, state=state, processes=2)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = client.local_many(urls)
    finally:
        client.close()
        stop.set()
        thread.join()
    assert not [w for w in caught if "fork()" in str(w.message)]
    assert [bool(f) for f in found] == [n % 50 == 7 for n in range(PARALLEL_BATCH)]
