"""URL canonicalisation: one spelling per resource, so reports of the same URL join one case."""

import hashlib
import re
import string
from dataclasses import dataclass, replace
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.core.signals.base import InvalidSignalValue
from openmnr.core.signals.url import (
    TRACKING_PARAMETERS,
    InvalidURL,
    UrlSignal,
    canonicalize,
    normalize_url,
)

# Internationalised labels and their A-labels, written out so the test does not trust the code's IDNA.
IDN_LABELS = {
    "bücher": "xn--bcher-kva",
    "münchen": "xn--mnchen-3ya",
    "пример": "xn--e1afmkfd",
    "例え": "xn--r8jz45g",
    "faß": "xn--fa-hia",
}
UNRESERVED = set(string.ascii_letters + string.digits + "-._~")

labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
tlds = st.text(string.ascii_lowercase, min_size=2, max_size=5)
segments = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=6
).filter(lambda s: s not in (".", ".."))
param_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=6)


@dataclass(frozen=True)
class Parts:
    """A URL as its parts, so the tests can spell one resource many ways."""

    scheme: str
    labels: tuple[str, ...]
    idn: str | None
    port: int | None
    segments: tuple[str, ...]
    params: tuple[tuple[str, str], ...]

    def plain(self) -> str:
        """The spelling canonicalisation should produce: nothing to remove, nothing to rewrite."""
        host_labels = self.labels + ((IDN_LABELS[self.idn],) if self.idn else ())
        host = ".".join(host_labels)
        port = f":{self.port}" if self.port else ""
        path = "/" + "/".join(quote(s, safe="") for s in self.segments)
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.params)
        return f"{self.scheme}://{host}{port}{path}" + (f"?{query}" if query else "")


parts = st.builds(
    Parts,
    scheme=st.sampled_from(["http", "https"]),
    labels=st.lists(labels, min_size=1, max_size=2)
    .map(tuple)
    .flatmap(lambda ls: tlds.map(lambda tld: ls + (tld,))),
    idn=st.none() | st.sampled_from(sorted(IDN_LABELS)),
    port=st.none() | st.integers(1024, 65535),
    segments=st.lists(segments, max_size=4).map(tuple),
    # Keys start with "k" so none is a tracking parameter by accident.
    params=st.lists(st.tuples(segments.map(lambda s: "k" + s), param_values), max_size=3).map(tuple),
)


def variant(p: Parts, rnd) -> str:
    """Another spelling of the same resource, with each equivalence picked at random."""

    def shout(text: str) -> str:
        # Only letters whose capital folds back ("ß" becomes "SS", another name).
        return "".join(c.upper() if c.upper().lower() == c and rnd.random() < 0.5 else c for c in text)

    scheme = shout(p.scheme)
    host_labels = list(p.labels)
    if p.idn:
        host_labels.append(p.idn)
    host = shout(".".join(host_labels))
    if rnd.random() < 0.3:
        host += "."
    port = p.port or (rnd.random() < 0.5 and {"http": 80, "https": 443}[p.scheme])
    authority = f"{host}:{port}" if port else host

    def respell(text: str) -> str:
        def one(match: re.Match) -> str:
            token = match.group()
            if token.startswith("%"):
                return token.lower() if rnd.random() < 0.5 else token
            if token in UNRESERVED and rnd.random() < 0.3:
                escape = f"%{ord(token):02X}"
                return escape.lower() if rnd.random() < 0.5 else escape
            return token

        return re.sub(r"%[0-9A-F]{2}|.", one, quote(text, safe=""), flags=re.DOTALL)

    path_parts = []
    for segment in p.segments:
        if rnd.random() < 0.3:
            path_parts.append(".")
        if rnd.random() < 0.3:
            path_parts += ["gone", ".."]
        path_parts.append(respell(segment))
    path = "/" + "/".join(path_parts)

    params = [f"{respell(k)}={respell(v)}" for k, v in p.params]
    for name in rnd.sample(sorted(TRACKING_PARAMETERS) + ["utm_source", "UTM_Campaign"], rnd.randint(0, 3)):
        params.insert(rnd.randint(0, len(params)), f"{name}=track{rnd.randint(0, 99)}")
    if rnd.random() < 0.3:
        params.insert(rnd.randint(0, len(params)), "")
    query = "&".join(params)
    fragment = "#section-2" if rnd.random() < 0.5 else ""
    return f"{scheme}://{authority}{path}" + (f"?{query}" if query or rnd.random() < 0.3 else "") + fragment


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(p=parts, rnd=st.randoms(use_true_random=False))
def test_equivalent_spellings_collapse(p, rnd):
    spelled = variant(p, rnd)
    assert canonicalize(spelled) == canonicalize(p.plain()), spelled


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(p=parts, rnd=st.randoms(use_true_random=False))
def test_canonical_form_is_idempotent(p, rnd):
    canonical = canonicalize(variant(p, rnd))
    assert canonicalize(canonical.url) == canonical
    assert normalize_url(canonical.url) == canonical.url


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=40), prefix=st.sampled_from(["", "http://", "https://", "HTTP://a.b/"]))
def test_any_text_is_either_refused_cleanly_or_canonical(text, prefix):
    try:
        canonical = canonicalize(prefix + text)
    except InvalidURL:
        return
    assert canonical.url.isascii()
    assert canonicalize(canonical.url) == canonical


def different(p: Parts, change: str) -> tuple[Parts, Parts]:
    """Two URLs that differ by one change that names another resource."""
    match change:
        case "host":
            return p, replace(p, labels=(p.labels[0] + "x",) + p.labels[1:])
        case "port":
            return p, replace(p, port=8080 if p.port != 8080 else 8081)
        case "scheme":
            return p, replace(p, scheme="https" if p.scheme == "http" else "http")
        case "extra segment":
            return p, replace(p, segments=p.segments + ("more",))
        case "path case":
            return replace(p, segments=p.segments + ("Page",)), replace(p, segments=p.segments + ("page",))
        case "query value":
            return replace(p, params=p.params + (("kpage", "2"),)), replace(
                p, params=p.params + (("kpage", "3"),)
            )
        case "extra parameter":
            return p, replace(p, params=p.params + (("kid", "7"),))
    raise AssertionError(change)


@settings(max_examples=150, deadline=None)
@given(
    p=parts,
    change=st.sampled_from(
        ["host", "port", "scheme", "extra segment", "path case", "query value", "extra parameter"]
    ),
)
@pytest.mark.slow
def test_different_resources_stay_apart(p, change):
    a, b = different(p, change)
    assert canonicalize(a.plain()) != canonicalize(b.plain())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://example.com/a%2Fb", "http://example.com/a/b"),
        ("http://example.com/a?x=1&y=2", "http://example.com/a?y=2&x=1"),
        ("http://example.com/a+b", "http://example.com/a%20b"),
        ("http://example.com/a?q=a%26b", "http://example.com/a?q=a&b"),
        ("http://example.com/a?q", "http://example.com/a?q="),
        ("http://example.com/a/", "http://example.com/a"),
        ("http://example.com//a", "http://example.com/a"),
        ("http://faß.de/", "http://fass.de/"),
        ("http://u:p@example.com/", "http://example.com/"),
        ("http://example.com/?ref=x", "http://example.com/"),
    ],
)
def test_spellings_that_may_name_different_resources_are_kept_apart(a, b):
    assert canonicalize(a).url != canonicalize(b).url


@pytest.mark.parametrize(
    ("given_url", "canonical"),
    [
        (
            "HTTP://Example.COM:80/a/./b/../c?utm_source=mail&id=1&fbclid=abc#top",
            "http://example.com/a/c?id=1",
        ),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:0443/x", "https://example.com/x"),
        ("http://example.com:8080/", "http://example.com:8080/"),
        ("http://example.com./", "http://example.com/"),
        ("  http://example.com/\n", "http://example.com/"),
        ("http://BÜCHER.example/", "http://xn--bcher-kva.example/"),
        ("http://ｅｘａｍｐｌｅ.com/", "http://example.com/"),
        ("http://ex%41mple.com/", "http://example.com/"),
        ("http://example.com/%7euser/%e2%82%ac", "http://example.com/~user/%E2%82%AC"),
        ("http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/%2e%2E/x", "http://example.com/x"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/?", "http://example.com/"),
        ("http://example.com/?utm_medium=x&gclid=y", "http://example.com/"),
        ("http://example.com/?a=1&&b=2&", "http://example.com/?a=1&b=2"),
        ("http://example.com/?UTM%5FSource=x&a=1", "http://example.com/?a=1"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0177.0.0.01/", "http://127.0.0.1/"),
        ("http://[0:0:0:0:0:0:0:1]:80/", "http://[::1]/"),
        ("http://[::FFFF:10.0.0.1]/", "http://[::ffff:a00:1]/"),
        ("http://a.example\\@b.example/", "http://a.example/@b.example/"),
        ("http://user:p%61ss@example.com/", "http://user:pass@example.com/"),
        ("http://@example.com/", "http://example.com/"),
    ],
)
def test_canonical_forms(given_url, canonical):
    result = canonicalize(given_url)
    assert result.url == canonical
    # Other systems (a partner hotline, a hash list) can recompute the digest from the canonical text.
    assert result.sha256 == hashlib.sha256(canonical.encode()).hexdigest()


def test_normalize_keeps_tracking_parameters_for_fetching():
    assert (
        normalize_url("HTTP://Example.com/a/../b?utm_source=x&id=1#f")
        == "http://example.com/b?utm_source=x&id=1"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "example.com/page",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "http://",
        "http:///path",
        "http://:80/",
        "http://exa mple.com/",
        "http://a..b/",
        "http://example.com:99999/",
        "http://example.com:8o/",
        "http://[::1/",
        "http://[::1]x/",
        "http://[not-ipv6]/",
        "http://[fe80::1%25eth0]/",
        "http://1.2.3.256/",
        "http://1.2.3.4.5/",
        "http://example.123/",
        "http://xn--zz.com/",
        "http://a%2Fb.com/",
        "http://" + "a" * 64 + ".com/",
        "http://example.com/" + "a" * 9000,
    ],
)
def test_bad_input_is_refused_with_a_typed_error(bad):
    with pytest.raises(InvalidURL):
        canonicalize(bad)


def test_non_text_is_refused_with_a_typed_error():
    with pytest.raises(InvalidURL):
        canonicalize(b"http://example.com/")  # type: ignore[arg-type]


def test_url_signal_hashes_the_canonical_form():
    one = UrlSignal.hash_bytes(b"HTTPS://Example.com/x?utm_source=a")
    two = UrlSignal.hash_bytes(b"https://example.com/x#frag")
    other = UrlSignal.hash_bytes(b"https://example.com/y")
    assert one.value == two.value == canonicalize("https://example.com/x").sha256
    assert UrlSignal.compare(one.value, two.value).match
    assert not UrlSignal.compare(one.value, other.value).match
    assert UrlSignal.validate(one.value.upper() + "\n") == one.value


def test_url_signal_refuses_bad_values():
    with pytest.raises(InvalidURL):
        UrlSignal.hash_bytes(b"ftp://example.com/")
    with pytest.raises(InvalidURL):
        UrlSignal.hash_bytes(b"http://example.com/\xff")
    for bad in ["", "abc", "g" * 64, "a" * 63]:
        with pytest.raises(InvalidSignalValue):
            UrlSignal.validate(bad)


def test_addresses_are_shown_decoded_but_never_in_a_form_that_could_pass_for_another():
    from openmnr.core.signals.url import display_url

    stored = canonicalize("https://ünicode.example/päth?q=ß").url
    assert stored == "https://xn--nicode-2ya.example/p%C3%A4th?q=%C3%9F"
    assert display_url(stored) == "https://ünicode.example/päth?q=ß"
    # Escapes of ASCII characters, invisible or direction-changing characters, and bad escapes stay.
    assert display_url("https://example.org/a%2Fb%20c") == "https://example.org/a%2Fb%20c"
    assert display_url("https://example.org/x%E2%80%AEgpj.exe") == "https://example.org/x%E2%80%AEgpj.exe"
    assert display_url("https://example.org/%C3") == "https://example.org/%C3"
    assert display_url("https://xn--zz.example/") == "https://xn--zz.example/"
