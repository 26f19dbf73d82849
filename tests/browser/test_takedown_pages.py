"""In a real browser: an analyst follows the demo case from the takedown dashboard to its timeline
and the removal statistics (charts with text alternatives), and a host acknowledges a notice from
the link in its e-mail without an account; no page breaks the Content Security Policy."""

import io

from helpers import sign_in_page


def test_case_timeline_statistics_and_acknowledgement(
    page, browser, live_server, make_user, settings, tmp_path
):
    from openmnr.takedown import demo, notices
    from openmnr.takedown.models import Notice, TakedownCase
    from openmnr.web.demo import ensure_demo_users

    settings.DEBUG = True  # the demo signs its referral with a key it makes under VAR_DIR
    settings.VAR_DIR = tmp_path
    settings.REFERRAL_SIGNING_KEY = settings.REFERRAL_DIR = ""
    ensure_demo_users()
    demo.load(io.StringIO())
    takedown = TakedownCase.objects.get()
    violations = []
    page.on("console", lambda message: violations.append(message.text))

    sign_in_page(page, make_user("senior_analyst", username="sam"))
    page.get_by_role("link", name="Notice and takedown").first.click()
    page.get_by_role("link", name="Removed, watching").first.click()
    page.get_by_role("link", name=f"Case {takedown.pk}").click()
    page.wait_for_url(f"**/staff/takedown/cases/{takedown.pk}/")
    content = page.content()
    assert "removal confirmed" in content and "acknowledged" in content

    page.goto("/staff/takedown/statistics/")
    assert page.get_by_role("heading", name="Removal statistics").is_visible()
    charts = page.locator("svg.chart")
    assert charts.count() >= 1
    first = charts.first
    title_id, desc_id = first.get_attribute("aria-labelledby").split()
    assert page.locator(f"#{title_id}").text_content() and page.locator(f"#{desc_id}").text_content()

    # The host's side: a fresh browser with no session opens the link from the notice.
    notice = Notice.objects.filter(takedown=takedown).order_by("sent_at").first()
    Notice.objects.filter(pk=notice.pk).update(acknowledged_at=None)
    host = browser.new_context(base_url=live_server.url).new_page()
    host.on("console", lambda message: violations.append(message.text))
    host.goto(f"/staff/takedown/ack/{notices.ack_token(notice.reference)}/")
    assert host.locator("#reference").text_content() == notice.reference
    host.get_by_role("button", name="Confirm receipt").click()
    assert "Thank you" in host.get_by_role("status").text_content()
    notice.refresh_from_db()
    assert notice.acknowledged_at is not None
    host.context.close()
    assert not [v for v in violations if "Content Security Policy" in v]
