"""The API reference page at /api/v1/docs: Swagger UI served by the platform itself, rendering the
OpenAPI document under the site's CSP, with no request to another host and no CSP violation."""

from urllib.parse import urlsplit

import pytest


@pytest.mark.django_db(transaction=True)
def test_the_api_reference_renders_every_operation_from_this_host_only(page, live_server):
    host = urlsplit(live_server.url).netloc
    requested, violations, errors = [], [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    response = page.goto("/api/v1/docs")
    assert response.status == 200
    assert "script-src" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)

    shown = {p.inner_text().replace("\u200b", "") for p in page.locator(".opblock-summary-path").all()}
    assert {"/api/v1/match", "/api/v1/hash", "/api/v1/reports", "/api/v1/whoami"} <= shown
    page.locator(".opblock-summary-path", has_text="/api/v1/match").first.click()
    page.wait_for_selector("text=ApiError", timeout=10_000)  # the error shape is documented there

    assert not violations, violations
    assert not errors, errors
    foreign = [
        url for url in requested if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != host
    ]
    assert not foreign, foreign
