"""In a real browser: a reporter files a report with the keyboard alone, gets a tracking code and
reads the report's status with it; the form also works with JavaScript turned off."""

import re

from openmnr.hotline.models import Case, Submission


def test_report_with_the_keyboard_then_read_the_status(page, db):
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto("/")
    page.get_by_role("link", name="Report a web address").first.click()
    page.wait_for_url("**/report/")

    # An empty form: the error summary names each problem and links to its field.
    page.get_by_role("button", name="Send the report").click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.text_content()
    summary.get_by_role(
        "link", name=re.compile(r"^Web addresses: Give at least one web address")
    ).first.click()
    assert page.evaluate("document.activeElement.id") == "id_urls"

    page.keyboard.type("https://example.org/reported-page?utm_source=chat")
    page.keyboard.press("Tab")  # into "Where did you find it?"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # into "What does it show?"
    page.keyboard.press("Space")
    assert page.get_by_label("A web page").is_checked()
    assert page.get_by_label("Child sexual abuse material").is_checked()
    page.get_by_role("button", name="Send the report").focus()
    page.keyboard.press("Enter")

    code = page.locator("#tracking-code").text_content()
    assert len(code.replace("-", "")) == 20
    assert Case.objects.get().url == "https://example.org/reported-page"
    assert Submission.objects.get().tracking_code == code.replace("-", "")

    page.get_by_role("link", name="Check the status of a report").first.click()
    page.get_by_label("Tracking code").fill(code.lower())
    page.get_by_role("button", name="Check the status").click()
    assert page.locator("#report-status").text_content() == "Received"
    assert not any("Content Security Policy" in text for text in violations)


def test_the_form_works_without_javascript(browser, live_server, db):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/report/")
        page.get_by_label("Web addresses").fill("https://example.org/a\nhttps://example.org/b")
        page.get_by_label("Social media").check()
        page.get_by_label("Other concerning content").check()
        page.get_by_label("Your email address (optional)").fill("reporter@example.org")
        page.get_by_role("button", name="Send the report").click()
        assert len(page.locator("#tracking-code").text_content()) == 24
        assert Case.objects.count() == 2
        assert Submission.objects.get().email == "reporter@example.org"
    finally:
        context.close()
