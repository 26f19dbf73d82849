"""Every staff URL needs a signed-in user with a verified second factor and the right permission."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from helpers import sign_in_client

# Views a signed-in user reaches before or without a role: the second-factor enrolment and sign-out.
SECOND_FACTOR_EXEMPT = {"accounts:enrol", "accounts:sign-out"}


def _walk(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), f"{namespace}{pattern.name}", pattern.callback


def _concrete(route: str) -> str | None:
    """A URL for a route with its converters filled in, or None for regex routes we cannot fill."""
    import re

    url = re.sub(r"<int:\w+>", "1", route)
    url = re.sub(r"<(?:str|slug):\w+>", "x", url)
    url = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000000", url)
    url = re.sub(r"<path:\w+>", "x", url)
    if "<" in url or "(?P" in url or "^" in url:
        return None
    return "/" + url.replace("\\Z", "").replace("$", "")


def staff_urls():
    urls = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if not getattr(callback, "login_required", True) or name in SECOND_FACTOR_EXEMPT:
            continue
        if name.startswith("admin:"):
            continue  # the admin site has hundreds of routes; test_admin_site covers it
        url = _concrete(route)
        if url is not None:
            urls.append(pytest.param(url, id=name))
    return urls


# The staff pages of wave 2, each with a role that may open it and one that may not (from the apps'
# GRANTS). An object's page is asked for with an id that does not exist: the role check comes
# first (403), and only a role that may open such pages learns that the object is missing (404).
WAVE_TWO = [
    ("live:alerts", "/staff/live/", "analyst", "law_enforcement", 200),
    ("live:rows", "/staff/live/rows/", "senior_analyst", "national_coordinator", 200),
    ("live:alert", "/staff/live/999999/", "analyst", "law_enforcement", 404),
    ("live:transition", "/staff/live/999999/state/", "analyst", "administrator", "POST 404"),
    ("blocking:dashboard", "/staff/blocking/", "analyst", "law_enforcement", 200),
    ("blocking:keywords", "/staff/blocking/keywords/", "senior_analyst", "national_coordinator", 200),
    ("blocking:publish", "/staff/blocking/publish/", "administrator", "analyst", "POST 302"),
    ("blocking:partners", "/staff/blocking/partners/", "senior_analyst", "analyst", 200),
    ("blocking:partner", "/staff/blocking/partners/999999/", "administrator", "senior_analyst", 404),
    (
        "blocking:partner-fetch",
        "/staff/blocking/partners/999999/fetch/",
        "senior_analyst",
        "analyst",
        "POST 404",
    ),
    (
        "blocking:partner-remove",
        "/staff/blocking/partners/999999/remove/",
        "administrator",
        "senior_analyst",
        "POST 404",
    ),
    ("hotline:statistics", "/staff/hotline/statistics/", "analyst", "national_coordinator", 200),
    ("hotline:holds", "/staff/hotline/held/", "law_enforcement", "analyst", 200),
    ("hotline:hold", "/staff/hotline/held/999999/", "law_enforcement", "senior_analyst", 404),
    ("hotline:without-address", "/staff/hotline/without-address/", "analyst", "law_enforcement", 200),
    ("industry:queue", "/staff/industry/", "analyst", "national_coordinator", 200),
    ("industry:forwarding", "/staff/industry/forwarding/", "law_enforcement", "administrator", 200),
    ("industry:case", "/staff/industry/cases/999999/", "senior_analyst", "administrator", 404),
    ("industry:file", "/staff/industry/files/999999/", "analyst", "national_coordinator", 404),
    ("industry:statistics", "/staff/industry/statistics/", "national_coordinator", None, 200),
    ("industry:credentials", "/staff/industry/credentials/", "administrator", "senior_analyst", 200),
    ("survivors:activity", "/staff/survivors/", "national_coordinator", "law_enforcement", 200),
    ("survivors:held", "/staff/survivors/held/", "analyst", "national_coordinator", 200),
    ("survivors:lookup", "/staff/survivors/lookup/", "analyst", "administrator", 200),
    ("survivors:item", "/staff/survivors/items/999999/", "senior_analyst", "law_enforcement", 404),
    ("exchange:dashboard", "/staff/exchange/", "analyst", "national_coordinator", 200),
    ("exchange:retry", "/staff/exchange/outbox/999999/retry/", "administrator", "analyst", "POST 302"),
]


def test_the_sweep_sees_the_staff_pages():
    ids = {p.id for p in staff_urls()}
    assert {"staff-home", "audit:log", "accounts:api-keys", "accounts:step-up"} <= ids
    assert {name for name, *_ in WAVE_TWO} <= ids  # wave 2's pages are swept like the others


def test_the_sweep_fills_every_staff_route():
    """No staff route is left out because its parameters could not be filled in."""
    for route, name, callback in _walk(get_resolver().url_patterns):
        if getattr(callback, "login_required", True) and not name.startswith("admin:"):
            assert _concrete(route) is not None, (name, route)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url", "may", "may_not", "status"), WAVE_TWO, ids=[w[0] for w in WAVE_TWO])
def test_a_wave_two_page_opens_for_its_role_and_refuses_another(
    client, make_user, name, url, may, may_not, status
):
    """``status`` is what the role that may open the page gets: a GET's status, or "POST <status>"
    for an action that only takes POST (its GET is 405 for everyone)."""
    assert resolve(url).view_name == name
    sign_in_client(client, make_user(may_not))
    get, post = client.get(url).status_code, client.post(url).status_code
    assert (get, post) in ((403, 403), (405, 403)), (name, may_not, get, post)
    sign_in_client(client, make_user(may))
    method, _, expected = str(status).rpartition(" ")
    answer = client.post(url) if method == "POST" else client.get(url)
    assert answer.status_code == int(expected), (name, may, answer.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_without_second_factor_is_sent_to_enrolment(staff_client, url):
    client, _ = staff_client("administrator", verified=False)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"] in ("/accounts/second-factor/",), url


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_role_without_the_permission_gets_403(staff_client, url):
    client, _ = staff_client(None)  # signed in, second factor verified, no role at all
    get, post = client.get(url).status_code, client.post(url).status_code
    assert 403 in (get, post), url
    assert {get, post} <= {403, 405}, url


@pytest.mark.django_db
def test_industry_member_cannot_use_staff_pages(staff_client):
    client, _ = staff_client("industry_member")
    assert client.get("/staff/").status_code == 403
    assert client.get("/staff/audit/").status_code == 403


@pytest.mark.django_db
def test_analyst_cannot_read_the_audit_log_but_administrator_can(staff_client, make_user):
    from helpers import sign_in_client

    client, _ = staff_client("analyst")
    assert client.get("/staff/audit/").status_code == 403
    sign_in_client(client, make_user("administrator"))
    assert client.get("/staff/audit/").status_code == 200


@pytest.mark.django_db
def test_admin_site_is_for_verified_administrators_only(client, make_user):
    from helpers import sign_in_client

    admin_user = make_user("administrator")
    sign_in_client(client, admin_user, verified=False)
    assert client.get("/admin/").status_code == 302
    sign_in_client(client, admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200

    senior = make_user("senior_analyst")
    senior.is_staff = True  # even with the staff flag, the role decides
    senior.save()
    sign_in_client(client, senior)
    response = client.get("/admin/")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 403


@pytest.mark.django_db
def test_staff_home_shows_each_role_what_it_may_do(staff_client):
    client, _ = staff_client("administrator")
    page = client.get("/staff/").content.decode()
    assert "API keys" in page and "Audit log" in page
    client, _ = staff_client("analyst")
    page = client.get("/staff/").content.decode()
    assert "Analyst" in page
    assert "API keys" not in page and "Audit log" not in page


def _private(response) -> bool:
    directives = {d.strip().split("=")[0] for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_no_staff_answer_may_be_cached(client, make_user, url):
    """Every staff URL answers with Cache-Control: no-store, private, whoever asks and whatever the
    answer (page, redirect to sign-in, 403, 404, a download)."""
    assert _private(client.get(url)), url
    from django.contrib.auth.models import Group

    user = make_user("administrator")
    user.groups.add(*Group.objects.all())  # every role: the pages answer rather than refuse
    sign_in_client(client, user)
    for method in (client.get, client.post):
        assert _private(method(url)), url


@pytest.mark.django_db
def test_downloads_are_not_cached(staff_client, settings, tmp_path):
    """The demo's real downloads: exports, evidence, statistics, referral packages, the admin site."""
    import io

    from django.contrib.auth.models import Group

    from openmnr.web.demo import load_demo

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    load_demo(io.StringIO())
    client, user = staff_client("administrator")
    user.groups.add(*Group.objects.all())
    downloads = [
        "/staff/takedown/statistics/summary.csv",
        "/staff/takedown/statistics/cases.csv",
        "/staff/assessment/1/export.csv",
        "/staff/assessment/1/export.json",
        "/admin/auth/user/",
    ]
    for url in downloads:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _private(response), url
    response = client.post(
        "/staff/banks/1/export/", {"format": "json", "passphrase": "x" * 20, "passphrase_again": "x" * 20}
    )
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert _private(response)
