"""The URL list's expressions: Safe Browsing's published canonicalisation and suffix/prefix examples,
and the bridge to the case URL canonicalisation (openmnr.core.signals.url)."""

import pytest

from openmnr.core.signals.url import canonicalize
from openmnr.core.urllist.expressions import InvalidURL, canonical, expressions, url_expressions

# Safe Browsing v4, "URLs and hashing", Canonicalization: every published example.
SAFE_BROWSING_CANONICAL = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
        "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/",
        "http://168.188.99.26/.secure/www.ebay.com/",
    ),
    (
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
        "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/",
    ),
    (
        "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B",
        "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+",
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    (b"http://\x01\x80.com/", "http://%01%80.com/"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
]


@pytest.mark.parametrize(("url", "expected"), SAFE_BROWSING_CANONICAL)
def test_safe_browsing_published_canonicalisation_examples(url, expected):
    assert canonical(url) == expected


def test_safe_browsing_published_suffix_prefix_examples():
    assert expressions("http://a.b.c/1/2.html?param=1") == [
        "a.b.c/1/2.html?param=1",
        "a.b.c/1/2.html",
        "a.b.c/",
        "a.b.c/1/",
        "b.c/1/2.html?param=1",
        "b.c/1/2.html",
        "b.c/",
        "b.c/1/",
    ]
    assert expressions("http://a.b.c.d.e.f.g/1.html") == [
        "a.b.c.d.e.f.g/1.html",
        "a.b.c.d.e.f.g/",
        "c.d.e.f.g/1.html",
        "c.d.e.f.g/",
        "d.e.f.g/1.html",
        "d.e.f.g/",
        "e.f.g/1.html",
        "e.f.g/",
        "f.g/1.html",
        "f.g/",
    ]
    # An IP address has no host suffixes.
    assert expressions("http://1.2.3.4/1/") == ["1.2.3.4/1/", "1.2.3.4/"]


def test_at_most_five_hosts_and_six_paths():
    found = expressions("http://a.b.c.d.e.f.g.h/1/2/3/4/5/6/page.html?x=1")
    assert len(found) == 5 * 6
    assert "d.e.f.g.h/1/2/3/" in found and "c.d.e.f.g.h/" not in found
    assert "h/" not in found and "g.h/1/2/3/4/" not in found


@pytest.mark.parametrize("url", ["ftp://example.com/file", "javascript:alert(1)", "http:///nohost", ""])
def test_urls_that_are_not_web_addresses_are_refused(url):
    with pytest.raises(InvalidURL):
        expressions(url)


def test_a_url_spelled_with_tracking_or_unicode_still_finds_the_case_entry():
    """An entry is made from the case's canonical URL; a user's spelling of it must hit that entry."""
    case_url = canonicalize("https://bücher.example/album/42?utm_source=x").url
    entry = expressions(case_url)[0]
    assert entry == "xn--bcher-kva.example/album/42"
    for spelling in (
        "https://bücher.example/album/42?utm_source=mail",
        "http://XN--BCHER-KVA.example:80/album/./42#top",
        "https://bücher.example/album/%34%32",
    ):
        assert entry in url_expressions(spelling), spelling


def test_a_directory_entry_covers_the_pages_below_it_and_no_sibling():
    listed = "bad.example/gallery/"
    assert listed in url_expressions("http://www.bad.example/gallery/2024/x.jpg")
    assert listed not in url_expressions("http://bad.example/gallery-other/x.jpg")
    assert listed not in url_expressions("http://notbad.example/gallery/x.jpg")


# The case canonicalisation's own examples (tests/core/test_url.py): a URL spelled as a reporter or
# a user spelled it finds the list entry made from its case's canonical form.
CASE_SPELLINGS = [
    "HTTP://Example.COM:80/a/./b/../c?utm_source=mail&id=1&fbclid=abc#top",
    "https://example.com:443",
    "https://example.com:0443/x",
    "http://example.com:8080/",
    "http://example.com./",
    "  http://example.com/\n",
    "http://BÜCHER.example/",
    "http://ｅｘａｍｐｌｅ.com/",
    "http://ex%41mple.com/",
    "http://example.com/%7euser/%e2%82%ac",
    "http://example.com/a b/é",
    "http://example.com/100%",
    "http://example.com/%2e%2E/x",
    "http://example.com/a/b/..",
    "http://example.com/?",
    "http://example.com/?utm_medium=x&gclid=y",
    "http://example.com/?UTM%5FSource=x&a=1",
    "http://0x7f.1/",
    "http://2130706433/",
    "http://0177.0.0.01/",
    "http://[0:0:0:0:0:0:0:1]:80/",
    "http://[::FFFF:10.0.0.1]/",
    "http://a.example\\@b.example/",
    "http://user:p%61ss@example.com/",
]


@pytest.mark.parametrize("spelling", CASE_SPELLINGS)
def test_any_spelling_of_a_case_url_finds_its_entry(spelling):
    entry = expressions(canonicalize(spelling).url)[0]
    assert entry in url_expressions(spelling)
