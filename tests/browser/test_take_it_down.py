"""In a real browser: a survivor takes their pictures down from /take-it-down/ without sending them.

Every request the page makes (its workers' included) passes through an interception that records
it: all go to this server, none carries a byte of the chosen files, and the only POST is JSON with
hashes and the person's answers. Thumbnails are blob: URLs. The page works at 375 pixels wide, in
Portuguese, under the Content Security Policy; the case is then followed, added to and withdrawn
with its code."""

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from openmnr.core.signals import pdq
from openmnr.survivors.models import Case, Item, code_digest

PHONE = {"width": 375, "height": 740}


@pytest.fixture
def files(shared, tmp_path):
    """Two benign photographs, a benign video, a flat picture and a text file."""
    from survivors.pictures import flat_picture

    natural = shared / "corpus" / "natural"
    flat = tmp_path / "flat.png"
    flat.write_bytes(flat_picture())
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    return {
        "photos": [natural / "astronaut-01.jpg", natural / "coffee-02.jpg"],
        "video": shared / "vectors" / "pdq" / "video" / "test-padded-dimensions.mp4",
        "flat": flat,
        "text": notes,
    }


@pytest.fixture
def recorded(page, live_server, settings, tmp_path):
    """Every request of the page's context (pages and workers), recorded, then let through."""
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    requests = []

    def record(route):
        request = route.request
        requests.append((request.method, request.url, request.post_data_buffer or b"", request.headers))
        route.continue_()

    page.context.route("**/*", record)
    return requests, _violations(page)


def _violations(page) -> list[str]:
    """Content Security Policy violations and script errors the page reports."""
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def _carries(body: bytes, data: bytes) -> bool:
    """Whether a request body holds any piece of a file, raw or base64-encoded."""
    pieces = [data[i : i + 48] for i in range(0, len(data) - 48, max(48, len(data) // 64))]
    return any(p in body or base64.b64encode(p)[:60] in body for p in pieces)


CODE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$")


def _code(page) -> str:
    """The case code the page shows once the fingerprints are sent."""
    expect(page.locator("#case-code")).to_have_text(CODE, timeout=30_000)
    return page.locator("#case-code").text_content()


def _wait_for_fingerprints(page):
    """Until every chosen file is fingerprinted (or refused): its row then has a class."""
    expect(page.locator("#files li:not([class])")).to_have_count(0, timeout=60_000)


def _choose(page, paths):
    """Pick files in the page's file input, once its script has shown the tool."""
    expect(page.locator("#tool")).to_be_visible()
    page.locator("#picker").set_input_files([str(p) for p in paths])


def test_pictures_are_fingerprinted_here_and_only_hashes_are_sent(page, live_server, files, recorded, db):
    requests, violations = recorded
    page.goto("/")
    page.get_by_role("link", name="Take it down").first.click()
    page.wait_for_url("**/take-it-down/")
    assert page.locator("input[type=file]").get_attribute("name") is None
    assert page.locator("form input[type=file]").count() == 0  # no form can upload it
    chosen = [*files["photos"], files["video"], files["flat"], files["text"]]
    _choose(page, chosen)
    rows = page.locator("#files li")
    assert rows.count() == 5
    for source in page.locator("#files .thumb").evaluate_all("nodes => nodes.map(n => n.src)"):
        assert source.startswith("blob:")
    assert "blurred" in page.locator("#files").get_attribute("class")
    _wait_for_fingerprints(page)
    states = page.locator("#files .state").all_text_contents()
    assert states[:2] == ["Fingerprint ready."] * 2
    assert states[2].startswith("Fingerprint ready. Exact copies of this video")
    assert "only exact copies" in states[3]
    assert "not a picture or video" in states[4]

    page.get_by_role("button", name="Send the fingerprints").click()
    assert "confirm both" in page.get_by_role("alert").text_content()
    page.get_by_label("I am the person in these pictures or videos.").check()
    page.get_by_label("I was under 18 when they were taken.").check()
    page.get_by_role("button", name="Send the fingerprints").click()
    code = _code(page)
    # Four files sent (the text file stayed behind); for the flat picture only exact copies count.
    assert page.locator("#summary dd").all_text_contents() == ["4", "1"]

    case = Case.objects.get()
    assert case.code_digest == code_digest(code.replace("-", ""))
    items = list(case.items.order_by("pk"))
    assert [i.kind for i in items] == ["photo", "photo", "video", "photo"]
    for item, path in zip(items, chosen, strict=False):
        data = Path(path).read_bytes()
        sent = dict(item.signals.values_list("signal_type", "value"))
        assert (
            sent["md5"] == hashlib.md5(data).hexdigest()
            and sent["sha256"] == hashlib.sha256(data).hexdigest()
        )
        if item.kind == "photo" and not item.pdq_refused:
            assert sent["pdq"] == pdq.hash_media(data, mode="reference").value
    assert items[3].pdq_refused

    origin = live_server.url
    assert requests and all(url.startswith(origin) for _, url, _, _ in requests), [
        u for _, u, _, _ in requests
    ]
    posts = [(url, body, headers) for method, url, body, headers in requests if method != "GET"]
    assert [url.removeprefix(origin) for url, _, _ in posts] == ["/take-it-down/cases/"]
    url, body, headers = posts[0]
    assert headers["content-type"] == "application/json" and len(body) < 4000
    sent = json.loads(body)
    assert set(sent) == {"items", "pictured", "under_18", "email"}
    assert {key for item in sent["items"] for key in item} <= {"kind", "pdq", "pdq_quality", "md5", "sha256"}
    for path in chosen:
        data = Path(path).read_bytes()
        assert not any(_carries(body, data) for _, _, body, _ in requests), path
    assert not violations, violations


def test_at_phone_width_in_portuguese(browser, live_server, files, settings, tmp_path, db):
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="pt-BR", is_mobile=True)
    page = context.new_page()
    violations = _violations(page)
    try:
        page.goto("/take-it-down/")
        assert page.locator("html").get_attribute("lang") == "pt-br"
        assert page.get_by_role("heading", level=1).text_content() == "Tire do ar"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _choose(page, files["photos"])
        _wait_for_fingerprints(page)
        assert page.locator("#files .state").first.text_content() == "Impressão digital pronta."
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Sou a pessoa nestas fotos ou vídeos.").check()
        page.get_by_label("Eu tinha menos de 18 anos quando foram feitos.").check()
        page.get_by_role("button", name="Enviar as impressões digitais").click()
        _code(page)
        box = page.locator("#case-code").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.goto("/take-it-down/status/")
        assert page.get_by_role("heading", level=1).text_content() == "O seu caso"
        assert not violations, violations
    finally:
        context.close()


def test_follow_add_to_and_withdraw_the_case(page, live_server, files, recorded, shared, db):
    requests, violations = recorded
    page.goto("/take-it-down/")
    _choose(page, files["photos"][:1])
    _wait_for_fingerprints(page)
    page.get_by_label("I am the person in these pictures or videos.").check()
    page.get_by_label("I was under 18 when they were taken.").check()
    page.get_by_role("button", name="Send the fingerprints").click()
    code = _code(page)

    page.get_by_role("link", name="Check your case").first.click()
    page.get_by_label("Your code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Check my case").click()
    assert page.locator("#case-state").text_content() == "Active"
    assert page.locator("#count-active").text_content() == "1"

    page.get_by_role("button", name="Add more pictures or videos").click()
    assert page.get_by_role("heading", level=1).text_content() == "Add pictures or videos to your case"
    _choose(page, [files["photos"][1], files["photos"][0]])
    _wait_for_fingerprints(page)
    page.get_by_role("button", name="Send the fingerprints").click()
    page.get_by_role("heading", name="Added to your case").wait_for()
    assert "Already in your case" in page.locator("#summary").text_content()
    assert Item.objects.count() == 2

    page.goto("/take-it-down/status/")
    page.get_by_label("Your code").fill(code)
    page.get_by_role("button", name="Check my case").click()
    assert page.locator("#count-active").text_content() == "2"
    page.get_by_role("button", name="Withdraw my case").click()
    page.get_by_role("button", name="Yes, withdraw my case").click()
    assert page.get_by_role("heading", level=1).text_content() == "Your case is withdrawn"
    assert Case.objects.get().state == "withdrawn"
    for path in files["photos"]:
        assert not any(_carries(body, path.read_bytes()) for _, _, body, _ in requests)
    assert not violations, violations
