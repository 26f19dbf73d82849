"""In a real browser: an analyst classifies an item with the keyboard only (a digit per group,
Enter saves), completes the case holding it for the police, and a law-enforcement user releases
it; no page breaks the Content Security Policy."""

from helpers import sign_in_page


def test_keyboard_classification_and_a_police_release(page, browser, live_server, make_user):
    from openmnr.hotline import cases
    from openmnr.hotline.intake import ReportInput, receive_public
    from openmnr.hotline.models import Case, MediaItem
    from openmnr.hotline.states import State

    case = receive_public(ReportInput(urls=["https://203.0.113.9/page"]), is_demo=True).urls.get().case
    MediaItem.objects.create(
        case=case,
        position=0,
        url="https://203.0.113.9/a.jpg",
        url_sha256="a" * 64,
        media_type="image/jpeg",
        sha256="b" * 64,
    )
    cases.transition(case.pk, State.TRIAGED, reason="test triage")
    item = case.items.get()
    violations = []
    page.on("console", lambda message: violations.append(message.text))

    sign_in_page(page, make_user("analyst", username="ana"))
    page.goto(f"/staff/hotline/cases/{case.pk}/")
    page.get_by_role("button", name="Claim this case").click()
    page.goto(f"/staff/hotline/items/{item.pk}/")
    assert page.locator("#classify-form").is_visible()
    # Nationally illegal (2), category C (3), pubescent (3), male (3), image (1); then the flags
    # group: AI-generated (2), self-generated (3); Enter saves.
    for key in ["2", "3", "3", "3", "1", "2", "3", "Enter"]:
        page.keyboard.press(key)
    page.wait_for_url(f"**/staff/hotline/cases/{case.pk}/")
    item.refresh_from_db()
    assert (item.assessment, item.category, item.age_group, item.gender, item.content_type) == (
        "nationally_illegal",
        "C",
        "pubescent",
        "male",
        "image",
    )
    assert sorted(item.flags) == ["ai_generated", "self_generated", "virtual"]

    page.get_by_label("Hold for the police first (optional)").fill("suspect under investigation")
    page.get_by_role("button", name="Complete the assessment").click()
    page.wait_for_url("**/staff/hotline/")
    assert Case.objects.get(pk=case.pk).state == "held"

    police = browser.new_context(base_url=live_server.url).new_page()
    police.on("console", lambda message: violations.append(message.text))
    sign_in_page(police, make_user("law_enforcement", username="pol"))
    police.get_by_role("link", name="Cases held for the police").first.click()
    police.get_by_role("link", name=f"Case {case.pk}").click()
    assert "suspect under investigation" in police.content()
    police.get_by_role("button", name="Release: notices to the host may start").click()
    police.wait_for_url("**/staff/hotline/held/")
    assert "No case is held" in police.content()
    police.context.close()
    released = Case.objects.get(pk=case.pk)
    assert released.state == "assessed" and released.released_at is not None
    assert not [v for v in violations if "Content Security Policy" in v]
