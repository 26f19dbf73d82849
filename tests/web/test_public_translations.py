"""The public pages speak Portuguese completely: every piece of text a visitor reads in English is
different in pt-BR (footer, headings, errors included), and the catalogue is compiled."""

import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

# Text that is the same in both languages by nature.
SAME_IN_BOTH = {"OpenMNR", "English", "Português (Brasil)", "https://", "·", "—"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.skip = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "code", "option", "textarea"):
            self.skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "option", "textarea"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.parts.append(" ".join(data.split()))


def _texts(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return {text for text in parser.parts if re.search(r"[A-Za-z]{3}", text) and text not in SAME_IN_BOTH}


def _page(client, method, path, language, data=None):
    headers = {"accept-language": language}
    if method == "GET":
        return client.get(path, headers=headers).content.decode()
    # As a browser sends the public form (it refuses multipart bodies: no files).
    body = urlencode(data or {})
    return client.post(
        path, body, content_type="application/x-www-form-urlencoded", headers=headers
    ).content.decode()


PAGES = [
    ("GET", "/", None),
    ("GET", "/report/", None),
    ("POST", "/report/", {"urls": "x" * 9000, "found_where": "web_page", "content_kind": "csam"}),
    ("POST", "/report/", {"urls": "not a url at all", "found_where": "web_page", "content_kind": "csam"}),
    ("GET", "/report/status/", None),
    ("GET", "/no-such-page/", None),
    ("GET", "/take-it-down/", None),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method,path,data", PAGES, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(PAGES)])
def test_no_english_text_is_left_on_a_public_page_in_portuguese(client, method, path, data):
    english = _texts(_page(client, method, path, "en", data))
    portuguese = _texts(_page(client, method, path, "pt-BR", data))
    assert english, path
    untranslated = sorted(english & portuguese)
    assert not untranslated, untranslated


@pytest.mark.django_db
def test_the_footer_and_the_url_limit_speak_portuguese(client):
    page = _page(client, "GET", "/", "pt-BR")
    assert "open tools" not in page and 'name="language"' in page
    too_long = _page(client, "POST", "/report/", "pt-BR", PAGES[2][2])
    assert "O endereço 1 tem 9000 caracteres" in too_long and "até 8192 caracteres" in too_long


@pytest.mark.django_db
def test_an_address_without_a_scheme_is_read_with_https_and_shown_back(client):
    data = {
        "urls": "example.org/page\nhttps://example.net/",
        "found_where": "web_page",
        "content_kind": "csam",
    }
    page = _page(client, "POST", "/report/", "en", data)
    assert 'id="tracking-code"' in page, page[:3000]
    shown = page.split('id="completed-addresses"')[1].split("</ul>")[0]
    assert (
        "We read address 1 as" in shown and "https://example.org/page" in shown and "address 2" not in shown
    )
    from openmnr.hotline.models import Case

    assert Case.objects.filter(url="https://example.org/page").exists()


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] in (
        "image/x-icon",
        "image/vnd.microsoft.icon",
    )
