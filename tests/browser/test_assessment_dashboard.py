"""In a real browser: the self-assessment dashboard renders its charts with text alternatives, the
capability grid with text labels; two coordinators sign and countersign through the confirmation
page; the regional comparison draws its charts with text alternatives; and no page breaks a rule of
the Content Security Policy."""

from datetime import date

from helpers import sign_in_page


def test_dashboard_charts_have_text_alternatives(page, make_user):
    from openmnr.assessment import services

    coordinator = make_user("national_coordinator", username="nadia")
    cycle = services.open_cycle(
        coordinator,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )
    services.record_capability(
        coordinator,
        cycle,
        3,
        current_level=2,
        target_level=3,
        criteria_met=["3.1.a", "3.1.b", "3.2.a", "3.2.b"],
        confidence="high",
        stakeholder="Ministry of Justice",
    )
    services.record_capability(
        coordinator,
        cycle,
        12,
        current_level=2,
        target_level=3,
        criteria_met=["12.1.a", "12.1.b", "12.2.a", "12.2.b", "12.2.c"],
        confidence="high",
        stakeholder="Examplestan Safer Internet Centre",
    )
    violations = []
    page.on("console", lambda message: violations.append(message.text))

    sign_in_page(page, coordinator)
    page.get_by_role("link", name="MNR self-assessment").first.click()
    page.get_by_role("link", name="Examplestan").first.click()
    assert page.get_by_role("heading", name="Examplestan: MNR self-assessment").is_visible()

    # One chart per domain, each an image named by its <title> and described by its <desc>.
    charts = page.get_by_role("img", name="Societal: current level against target, by capability")
    assert charts.count() == 1
    chart = page.locator("svg.chart").nth(3)
    assert chart.get_attribute("aria-labelledby") == "chart-societal-title chart-societal-desc"
    assert (
        "12 CSEA hotline: current level 2 (developing), target 3 (enhancing)"
        in chart.locator("desc").text_content()
    )
    assert page.locator("svg.chart").count() == 6
    # The same figures in a table that screen readers find and sighted users do not see.
    table = page.get_by_role("table", name="Societal: levels by capability")
    box = table.locator("xpath=..").bounding_box()  # the visually hidden wrapper
    assert table.count() == 1 and box["width"] <= 1 and box["height"] <= 1
    assert "12 CSEA hotline" in table.text_content() and "2 developing" in table.text_content()
    # The bars take their colour from the stylesheet, not from inline style.
    bar = chart.locator("rect.bar.level-2")
    assert bar.evaluate("e => getComputedStyle(e).fill") == "rgb(107, 174, 214)"
    # The grid says the level in words as well as in colour.
    cell = page.locator("li.cell", has_text="12 CSEA hotline")
    assert "Level 2 developing" in cell.text_content()
    assert not [v for v in violations if "Content Security Policy" in v]


def test_two_coordinators_sign_off_and_the_region_is_compared(page, make_user, settings, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from openmnr.assessment import results, services
    from openmnr.assessment.demo import results_package

    settings.ASSESSMENT_EVIDENCE_DIR = tmp_path / "evidence"
    first = make_user("national_coordinator", username="nadia")
    second = make_user("national_coordinator", username="omar")
    cycle = services.open_cycle(
        first,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )
    services.record_capability(
        first, cycle, 12, current_level=1, target_level=3, criteria_met=["12.1.a", "12.1.b"],
        confidence="high", stakeholder="Examplestan Safer Internet Centre",
    )  # fmt: skip
    services.transition(first, cycle, "in_review")
    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    results.set_peer_key(make_user("administrator"), "Neighbourland", pem)
    results.import_results(second, results_package("Neighbourland", {12: (2, 3), 3: (2, 3)}, key, 2026))
    violations = []
    page.on("console", lambda message: violations.append(message.text))

    # The first coordinator reads what will be frozen, then signs.
    sign_in_page(page, first)
    page.goto(f"/staff/assessment/{cycle.pk}/")
    page.get_by_role("link", name="Sign…").first.click()
    assert page.get_by_role("heading", name="What will be frozen").is_visible()
    assert page.get_by_role("table", name="Each capability as recorded").is_visible()
    page.get_by_role("button", name="Sign and freeze").click()
    assert page.get_by_text("Awaiting countersignature").first.is_visible()

    # The second coordinator countersigns the same hash.
    page.context.clear_cookies()
    sign_in_page(page, second)
    page.goto(f"/staff/assessment/{cycle.pk}/sign/")
    cycle.refresh_from_db()
    assert page.locator("#content-digest").text_content() == cycle.content_sha256
    page.get_by_role("button", name="Countersign and sign off").click()
    signatures = page.get_by_role("region", name="Signatures")
    assert "nadia" in signatures.text_content() and "omar" in signatures.text_content()
    assert "The content recorded now still has this hash." in signatures.text_content()

    # The regional comparison: a grid chart named by its title, described by its desc.
    page.get_by_role("link", name="All cycles").first.click()
    page.get_by_role("link", name="Regional comparison").first.click()
    grid = page.get_by_role("img", name="Current level by capability and country")
    assert grid.count() == 1
    desc = page.locator("svg.grid-chart desc").text_content()
    assert "12 CSEA hotline: Examplestan level 1 (building), Neighbourland level 2 (developing)" in desc
    assert page.get_by_role("table", name="Current level by capability and country").count() == 1
    cell = page.locator("svg.grid-chart rect.bar.level-2").first
    assert cell.evaluate("e => getComputedStyle(e).fill") == "rgb(107, 174, 214)"
    assert page.get_by_role("img", name="Gaps shared by several countries").count() == 1
    assert not [v for v in violations if "Content Security Policy" in v]
