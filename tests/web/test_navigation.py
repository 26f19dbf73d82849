"""Staff pages without dead ends: every page a role is offered opens for it, the navigation bar
offers exactly those, refusals and missing pages are styled pages that say what to do, and the
second factor's throttling and step-up tell the user what happens."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from helpers import current_totp
from openmnr.accounts.models import ApiKey
from openmnr.accounts.roles import ROLES
from openmnr.web.home import links_for

STAFF_ROLES = [role.name for role in ROLES if role.staff]


@pytest.mark.django_db
@pytest.mark.parametrize("role", STAFF_ROLES)
def test_every_page_a_role_is_offered_opens_for_it_and_the_bar_offers_the_same(staff_client, role):
    client, user = staff_client(role)
    links = links_for(user)
    assert links, role
    home = client.get("/staff/").content.decode()
    bar = re.search(r'<nav class="staff-nav".*?</nav>', home, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', bar) == ["/staff/"] + [link["url"] for link in links]
    for link in links:
        response = client.get(link["url"])
        assert response.status_code == 200, (role, link["url"], response.status_code)
        if link["url"].startswith("/admin/"):
            continue  # the administration site has its own header
        # The bar is on every staff page, and marks where the user is.
        page = response.content.decode()
        assert 'id="staff-nav"' in page, link["url"]
        assert f'href="{link["url"]}" aria-current="page"' in page, link["url"]


@pytest.mark.django_db
def test_the_administrator_is_not_offered_the_match_page_it_may_not_open(staff_client):
    client, _ = staff_client("administrator")
    home = client.get("/staff/").content.decode()
    assert "Match against the banks" not in home
    refused = client.get("/staff/banks/match/")
    assert refused.status_code == 403
    page = refused.content.decode()
    # A styled page that says what to do, with the bar and a way back.
    assert "You may not open this page" in page and "ask an administrator" in page
    assert 'id="staff-nav"' in page and 'href="/staff/"' in page and "openmnr.css" in page


@pytest.mark.django_db
def test_a_missing_page_is_a_styled_page_with_a_way_home(client, staff_client):
    public = client.get("/no-such-page/")
    assert public.status_code == 404
    assert "Page not found" in public.content.decode() and 'href="/"' in public.content.decode()
    assert "staff-nav" not in public.content.decode()
    staff, _ = staff_client("analyst")
    page = staff.get("/staff/hotline/cases/999999/").content.decode()
    assert "Page not found" in page and "Back to the staff home" in page


def test_the_server_error_page_is_styled_and_says_what_to_do():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "openmnr.css" in page and "try again" in page and "<script" not in page


@pytest.mark.django_db
def test_a_right_code_refused_by_throttling_says_so_and_how_long_to_wait(client, make_user, settings):
    user = make_user("analyst")
    form = {"username": user.username, "password": "correct horse battery 9"}
    wrong = client.post("/accounts/sign-in/", {**form, "token": "000000"})
    assert "The username, password or code is not right." in wrong.content.decode()
    right = client.post("/accounts/sign-in/", {**form, "token": current_totp(user)})
    page = right.content.decode()
    assert right.status_code == 400
    assert re.search(r"codes are not checked for \d+ seconds?", page), page
    assert "The username, password or code is not right." not in page
    # Once the wait is over the same kind of code signs in.
    device = user.totpdevice_set.get()
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=5)
    device.save()
    ok = client.post("/accounts/sign-in/", {**form, "token": current_totp(user)})
    assert ok.status_code == 302 and ok["Location"] == "/staff/"


@pytest.mark.django_db
def test_step_up_completes_the_action_that_asked_for_it(staff_client, make_user):
    from openmnr.accounts.stepup import SESSION_KEY

    client, admin_user = staff_client("administrator")
    owner = make_user("industry_member")
    session = client.session
    session[SESSION_KEY] = time.time() - 3600
    session.save()
    asked = client.post(
        "/accounts/api-keys/",
        {"name": "After step-up", "owner": owner.pk, "rate_limit_per_minute": 10},
        HTTP_REFERER="http://testserver/accounts/api-keys/",
    )
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/step-up/")
    assert not ApiKey.objects.filter(name="After step-up").exists()
    step_up = client.get(asked["Location"]).content.decode()
    resume = re.search(r'name="resume" value="([^"]+)"', step_up).group(1)
    next_url = re.search(r'name="next" value="([^"]+)"', step_up).group(1)
    answered = client.post(
        asked["Location"], {"token": current_totp(admin_user), "next": next_url, "resume": resume}
    )
    # The same form, ready to send again (a script sends it at once; without one, one click).
    page = answered.content.decode()
    assert answered.status_code == 200
    assert 'action="/accounts/api-keys/"' in page and "data-autosubmit" in page and "resume.js" in page
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    assert fields["name"] == "After step-up" and fields["owner"] == str(owner.pk)
    sent = client.post("/accounts/api-keys/", {**fields, "csrfmiddlewaretoken": "x"})
    assert sent.status_code == 302 and ApiKey.objects.filter(name="After step-up").count() == 1
    # The kept action is used once: the same resume name again leads back, not to a second form.
    again = client.post(
        asked["Location"], {"token": current_totp(admin_user), "next": next_url, "resume": resume}
    )
    assert again.status_code in (302, 400)
