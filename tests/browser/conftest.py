"""Playwright driving Debian's Chromium (/usr/bin/chromium); it never downloads a browser."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("OPENMNR_CHROMIUM", "/usr/bin/chromium"))
# The flags keep Chromium off the network except for the server under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in str(item.path.parent.name):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does it when root)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are ordinary
    # blocking calls made between browser steps, which is safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


# The live server speaks plain HTTP on 127.0.0.1, where browsers refuse Secure and __Host- cookies.
# Middleware reads these settings when the server starts, so they are set before it starts.
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
}


@pytest.fixture(scope="session")
def live_server():
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(**PLAIN_HTTP):
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()


@pytest.fixture
def page(browser, live_server, settings):
    for name, value in PLAIN_HTTP.items():
        setattr(settings, name, value)
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()
