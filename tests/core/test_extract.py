"""Media extraction from a reported page: every item the page shows, once, in order, fetchable."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openmnr.core.extract import extract_media_urls, parse_srcset
from openmnr.core.signals.url import InvalidURL, normalize_url

PAGE = "https://Forum.example/threads/42/index.html?page=2#post-7"

FULL_PAGE = """<!DOCTYPE html>
<html><head>
  <meta property="og:image" content="https://cdn.example/og.jpg">
  <meta property="og:video" content="/media/clip.mp4">
  <meta name="twitter:image" content="//cdn.example/card.png">
  <meta property="og:title" content="not media">
</head><body>
  <img src="photo1.jpg" alt="one">
  <img srcset="small.jpg 480w, https://img.example/w_800,h_600/large.jpg 800w,
               huge.jpg 2x">
  <img data-src="/lazy/three.webp" src="placeholder.gif">
  <picture><source srcset="pic.avif 1x, pic@2x.avif 2x" type="image/avif"><img src="pic.jpg"></picture>
  <video poster="poster.png" src="movie.webm" controls>
    <source src="movie.mp4" type="video/mp4">
  </video>
  <audio src="sound.mp3"></audio>
  <a href="gallery/full.JPG">full size</a>
  <a href="download.mp4?token=1&amp;x=2">download</a>
  <a href="next-page.html">next</a>
  <a href="mailto:admin@forum.example">mail</a>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
  <img src="javascript:alert(1)">
  <img src="photo1.jpg#again">
  <img src="  ./photo1.jpg  ">
  <img src="">
  <img>
</body></html>
"""


def test_every_kind_of_media_reference_is_found_in_document_order():
    assert extract_media_urls(FULL_PAGE, PAGE) == [
        "https://cdn.example/og.jpg",
        "https://forum.example/media/clip.mp4",
        "https://cdn.example/card.png",
        "https://forum.example/threads/42/photo1.jpg",
        "https://forum.example/threads/42/small.jpg",
        "https://img.example/w_800,h_600/large.jpg",
        "https://forum.example/threads/42/huge.jpg",
        "https://forum.example/threads/42/placeholder.gif",
        "https://forum.example/lazy/three.webp",
        "https://forum.example/threads/42/pic.avif",
        "https://forum.example/threads/42/pic@2x.avif",
        "https://forum.example/threads/42/pic.jpg",
        "https://forum.example/threads/42/movie.webm",
        "https://forum.example/threads/42/poster.png",
        "https://forum.example/threads/42/movie.mp4",
        "https://forum.example/threads/42/sound.mp3",
        "https://forum.example/threads/42/gallery/full.JPG",
        "https://forum.example/threads/42/download.mp4?token=1&x=2",
    ]


def test_base_href_applies_to_the_whole_page():
    html = '<img src="before.jpg"><base href="https://mirror.example/files/"><img src="after.jpg"><base href="/x/">'
    assert extract_media_urls(html, PAGE) == [
        "https://mirror.example/files/before.jpg",
        "https://mirror.example/files/after.jpg",
    ]


def test_a_relative_base_href_is_resolved_against_the_page():
    assert extract_media_urls('<base href="../img/"><img src="a.png">', PAGE) == [
        "https://forum.example/threads/img/a.png"
    ]


def test_an_unusable_base_href_falls_back_to_the_page_url():
    assert extract_media_urls('<base href="javascript:void(0)"><img src="a.png">', PAGE) == [
        "https://forum.example/threads/42/a.png"
    ]


def test_the_limit_caps_the_count_after_duplicates_are_removed():
    html = "".join(f'<img src="/i/{n % 7}.jpg">' for n in range(100))
    assert extract_media_urls(html, PAGE, limit=5) == [f"https://forum.example/i/{n}.jpg" for n in range(5)]
    assert len(extract_media_urls(html, PAGE)) == 7


def test_spellings_of_one_url_count_once():
    html = '<img src="/a.jpg"><img src="/A/../a.jpg"><img src="https://FORUM.example:443/%61.jpg"><img src="/a.jpg#x">'
    assert extract_media_urls(html, PAGE) == ["https://forum.example/a.jpg"]


def test_broken_html_and_bytes_with_another_encoding_are_read():
    html = '<div><p><img src="caf\xe9.jpg"><table><img src=unquoted.png alt=x</td>'.encode("latin-1")
    assert extract_media_urls(html, "http://example.com/", encoding="latin-1") == [
        "http://example.com/caf%C3%A9.jpg",
        "http://example.com/unquoted.png",
    ]


def test_a_page_url_that_is_not_http_is_refused():
    with pytest.raises(InvalidURL):
        extract_media_urls("<img src=a.jpg>", "file:///tmp/page.html")


@pytest.mark.parametrize(
    ("srcset", "urls"),
    [
        ("a.jpg", ["a.jpg"]),
        ("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"]),
        ("a.jpg,b.jpg", ["a.jpg,b.jpg"]),
        ("a.jpg, b.jpg", ["a.jpg", "b.jpg"]),
        (" ,, a.jpg 100w,,  b.jpg 200w ,", ["a.jpg", "b.jpg"]),
        (
            "https://cdn.example/c_fill,w_100/x.jpg 100w, y.jpg 200w",
            ["https://cdn.example/c_fill,w_100/x.jpg", "y.jpg"],
        ),
        ("a.jpg (odd, descriptor), b.jpg", ["a.jpg", "b.jpg"]),
        ("", []),
    ],
)
def test_srcset_parsing(srcset, urls):
    assert parse_srcset(srcset) == urls


paths = st.text("abcXYZ019-_./%", min_size=1, max_size=12)
tags = st.sampled_from(
    ['<img src="{}">', '<a href="{}.mp4">', '<video poster="{}">', '<img srcset="{} 1x">', "<p>{}</p>"]
)


@settings(max_examples=100, deadline=None)
@given(pieces=st.lists(st.tuples(tags, paths), max_size=30), limit=st.integers(1, 10))
def test_results_are_unique_normalised_http_urls_within_the_limit(pieces, limit):
    html = "".join(tag.format(path) for tag, path in pieces)
    urls = extract_media_urls(html, PAGE, limit=limit)
    assert len(urls) == len(set(urls)) <= limit
    for url in urls:
        assert url.startswith("https://") and normalize_url(url) == url
