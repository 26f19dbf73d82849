"""In a real browser: an analyst proposes a hash, two senior analysts confirm it from the queue,
and no page of the flow breaks the Content Security Policy."""

from helpers import sign_in_page
from openmnr.banks.models import Bank, BankEntry

VALUE = "f8f8f0cce0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_propose_and_confirm_with_four_eyes(page, make_user):
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    bank = Bank.objects.create(
        name="Confirmed CSAM (test)", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]
    )
    analyst = make_user("analyst", username="ana-banks")
    sign_in_page(page, analyst)
    page.get_by_role("link", name="Hash banks").first.click()
    page.get_by_role("link", name=bank.name).first.click()
    page.get_by_label("Signal type").select_option("pdq")
    page.get_by_label("Value").fill(VALUE)
    page.get_by_label("Classification").select_option("baseline")
    page.get_by_role("button", name="Propose the hash", exact=True).click()
    assert "waits for confirmation" in page.get_by_role("status").text_content()
    assert VALUE not in page.content() and VALUE[:8] in page.content()
    _sign_out(page)

    entry = BankEntry.objects.get()
    for username in ("sen-one", "sen-two"):
        sign_in_page(page, make_user("senior_analyst", username=username))
        page.get_by_role("link", name="Confirmations").first.click()
        page.get_by_role("button", name=f"Confirm entry {entry.pk}").click()
        assert "recorded" in page.get_by_role("status").text_content()
        _sign_out(page)
    entry.refresh_from_db()
    assert entry.status == "active"
    assert not any("Content Security Policy" in text for text in violations)


def test_an_analyst_matches_an_uploaded_picture_from_the_match_page(page, make_user, shared):
    from openmnr.banks import services

    picture = shared / "corpus" / "natural" / "astronaut-01.jpg"
    bank = Bank.objects.create(
        name="Confirmed CSAM (test)", purpose="confirmed_csam", match_roles=["analyst", "senior_analyst"]
    )
    entry = services.propose_entry(
        bank,
        signal_type="md5",
        value=services.hash_upload(picture.read_bytes())["md5"].value,
        classification="baseline",
        by=make_user("analyst"),
    )
    for _ in range(2):
        services.confirm_entry(entry, by=make_user("senior_analyst"))
    violations = []
    page.on("console", lambda message: violations.append(message.text))

    sign_in_page(page, make_user("analyst", username="ana-match"))
    page.get_by_role("link", name="Match against the banks").first.click()
    page.get_by_label("Picture or video").set_input_files(str(picture))
    page.get_by_role("button", name="Match").click()
    assert "Match: Confirmed CSAM" in page.get_by_role("status").text_content()
    assert page.get_by_role("table", name="Matching entries").get_by_role("link", name=bank.name).is_visible()
    assert not any("Content Security Policy" in text for text in violations)
