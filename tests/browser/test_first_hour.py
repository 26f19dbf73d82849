"""The first hour, in a real browser: the landing page (with its language selector, usable at phone
width), a report, an analyst who reveals an item after step-up, comes back to it revealed and
classifies it with the keyboard, two senior analysts who confirm an entry (four eyes), an
administrator who issues an API key and a call with it and with a wrong one. No console error, no
CSP violation, no raw code label on any page."""

import re
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpers import current_totp, sign_in_page
from openmnr.banks import services as banks
from openmnr.core.evidence import generate_key
from openmnr.hotline import triage
from openmnr.hotline.intake import ReportInput, receive_public

RAW_LABELS = re.compile(r"\b(confirmed_csam|partner_list|not_actionable|nationally_illegal|not_illegal)\b")


def _watch(page, problems):
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def _check_labels(page):
    text = page.locator("body").inner_text()
    assert not RAW_LABELS.search(text), (page.url, RAW_LABELS.search(text).group(0))


def test_the_language_selector_fits_a_phone(browser, live_server, db):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto("/")
        button = page.get_by_role("button", name="Change language")
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_label("Language").select_option("pt-br")
        button.click()
        page.wait_for_load_state()
        assert (
            "Denunciar" in page.locator("h1").inner_text()
            or page.locator("html").get_attribute("lang") == "pt-br"
        )
        assert "ferramentas abertas" in page.locator("footer").inner_text()
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_first_hour(browser, live_server, settings, make_user, make_bank, seniors, shared, tmp_path):
    settings.KEEP_EVIDENCE = True
    settings.EVIDENCE_KEY = generate_key()
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    problems = []

    # A visitor reports an address, typed without its scheme.
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    _watch(page, problems)
    page.goto("/")
    assert page.get_by_label("Language").is_visible()
    page.get_by_role("link", name="Report a web address").first.click()
    page.get_by_label("Web addresses").fill("example.org/first-hour")
    page.get_by_label("A web page").check()
    page.get_by_label("Child sexual abuse material").check()
    page.get_by_role("button", name="Send the report").click()
    assert page.locator("#tracking-code").is_visible()
    assert "https://example.org/first-hour" in page.locator("#completed-addresses").inner_text()
    context.close()

    # A case with a kept picture, as triage leaves it.
    photo = (shared / "corpus" / "natural" / "coffee-02.jpg").read_bytes()
    case = receive_public(ReportInput(urls=["https://example.org/gallery.html"])).urls.get().case
    triage.add_media(case.pk, 0, "https://example.org/c.jpg", photo, "image/jpeg")
    triage.finish(case.pk)
    item = case.items.get()

    # The analyst claims it and reveals the item; the second factor is asked again, then the item
    # is shown revealed without a second click.
    settings.STEP_UP_SECONDS = 3
    analyst = make_user("analyst")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    _watch(page, problems)
    sign_in_page(page, analyst)
    assert page.locator("#staff-nav").is_visible()
    page.get_by_role("link", name="Hotline queue").first.click()
    _check_labels(page)
    page.goto(f"/staff/hotline/cases/{case.pk}/")
    page.get_by_role("button", name="Claim this case").click()
    page.goto(f"/staff/hotline/items/{item.pk}/")
    time.sleep(3.5)  # the sign-in's second factor is now older than the step-up window
    page.get_by_role("button", name="Reveal this item").click()
    page.wait_for_url("**/accounts/step-up/**")
    TOTPDevice.objects.filter(user=analyst).update(last_t=-1)  # as if the next 30 s step had come
    settings.STEP_UP_SECONDS = 300
    page.get_by_label("Authenticator code").fill(current_totp(analyst))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"**/staff/hotline/items/{item.pk}/")
    assert page.locator("#revealed-media").is_visible()
    _check_labels(page)

    # The analyst classifies the item with the keyboard only, as the form invites (issue 13):
    # nationally illegal (2), category C (3), pubescent (3), male (3), image (1), then the flags:
    # AI-generated (2); Enter saves. Back on the case, the item reads in words, and the item's form
    # shows the saved choices.
    assert page.locator("#classify-form").is_visible()
    for key in ["2", "3", "3", "3", "1", "2", "Enter"]:
        page.keyboard.press(key)
    page.wait_for_url(f"**/staff/hotline/cases/{case.pk}/")
    assert "Item 1 classified." in page.locator(".messages li.success").inner_text()
    item_line = page.locator(".media-item").first.inner_text()
    assert "Nationally illegal" in item_line and "not classified" not in item_line
    _check_labels(page)
    page.locator(".media-item a").first.click()
    page.wait_for_url(f"**/staff/hotline/items/{item.pk}/")
    assert page.get_by_label("Nationally illegal").is_checked()
    assert page.locator("#revealed-media").count() == 0  # classifying covers the item again
    _check_labels(page)
    item.refresh_from_db()
    assert (item.assessment, item.category, item.age_group, item.gender, item.content_type) == (
        "nationally_illegal",
        "C",
        "pubescent",
        "male",
        "image",
    )
    assert "ai_generated" in item.flags
    context.close()

    # Four eyes: an entry proposed by the analyst, confirmed by two senior analysts in turn.
    bank = make_bank(name="Confirmed CSAM (first hour)")
    entry = banks.propose_entry(
        bank, signal_type="md5", value="0" * 31 + "1", classification="baseline", by=analyst
    )
    for senior in seniors[:2]:
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        _watch(page, problems)
        sign_in_page(page, senior)
        page.get_by_role("link", name="Confirmations").first.click()
        page.get_by_role("button", name=f"Confirm entry {entry.pk}").click()
        assert page.locator(".messages li.success").is_visible()
        _check_labels(page)
        context.close()
    entry.refresh_from_db()
    assert entry.status == "active"

    # The administrator issues a key (shown once after the redirect); the API takes it and
    # refuses a wrong one.
    administrator = make_user("administrator")
    industry = make_user("industry_member")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    _watch(page, problems)
    sign_in_page(page, administrator)
    assert page.get_by_role("link", name="Match against the banks").count() == 0
    page.get_by_role("link", name="API keys").first.click()
    page.get_by_label("Name").fill("First hour")
    page.get_by_label("Owner").select_option(str(industry.pk))
    page.get_by_role("button", name="Issue key").click()
    page.wait_for_url("**/accounts/api-keys/")
    key = page.locator("#new-key").inner_text().strip()
    page.reload()
    assert page.locator("#new-key").count() == 0
    integrator = browser.new_context(base_url=live_server.url)  # no session: the key alone
    good = integrator.request.get("/api/v1/whoami", headers={"Authorization": f"Bearer {key}"})
    bad = integrator.request.get("/api/v1/whoami", headers={"Authorization": f"Bearer {key}x"})
    assert good.status == 200 and bad.status == 401
    integrator.close()
    page.reload()
    assert "never" not in page.locator("table").first.inner_text()  # "Last used" is kept
    context.close()

    assert not problems, problems
