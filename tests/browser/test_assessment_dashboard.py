"""In a real browser: the self-assessment dashboard renders its charts with text alternatives, the
capability grid with text labels, and breaks no rule of the Content Security Policy."""

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
    page.get_by_role("link", name="MNR self-assessment").click()
    page.get_by_role("link", name="Examplestan").click()
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
