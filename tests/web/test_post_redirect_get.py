"""POST-redirect-GET on every staff form: a successful submission answers 302/303 to a page that a
GET shows, so reloading that page never sends the form again, and what it made exists once.

``FORMS`` (web/prg_forms*.py) has one entry per staff form that creates something or acts on something (by URL
name): it builds the state the form needs through the apps' services, signs in a user whose role
may submit it and gives a valid submission, and names what must then exist once (a row, or the
audit event of the action, which every sensitive action writes in its transaction).
``test_every_staff_post_form_is_swept`` finds every staff view that handles POST and fails if one
is in none of ``FORMS``, ``NOT_A_FORM`` (with the reason) and ``COVERED_BY`` (the app's own test
that asserts the same), so a new form cannot skip this.
"""

import inspect
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

import web.prg_forms_assessment
import web.prg_forms_hotline  # noqa: F401  (they register their forms in FORMS)
from helpers import sign_in_client
from web.prg_forms import FORMS

# Staff views that take a POST but do not create or act on anything a reload could repeat.
NOT_A_FORM = {
    "accounts:step-up": "checks a fresh code and returns to the page that asked (tests/browser/test_first_hour.py)",
    "accounts:sign-out": "ends the session and leaves for the landing page",
    "banks:match": "a query: the answer is the page (nothing is written)",
    "banks:export": "a download (the answer is the file)",
    "assessment:export-results": "a download (the answer is the signed package)",
    "industry:export": "a download (the answer is the referral package)",
    "accounts:enrol": "the second-factor enrolment, a sign-in step that redirects to the staff home",
}

# Forms whose success needs state that only their app's own fixtures build (a routed takedown
# case, a finished industry report, a survivor's case, a signed results package): the test named
# posts a valid submission, asserts the 302 and what it made, once.
COVERED_BY = {
    "live:reveal": "tests/live/test_reveal.py::test_frames_are_blurred_until_revealed_with_step_up_and_the_reveal_is_audited",
    "live:hide": "tests/live/test_reveal.py::test_frames_are_blurred_until_revealed_with_step_up_and_the_reveal_is_audited",
    "takedown:decide": "tests/takedown/test_routing.py::test_behind_a_cdn_the_cdn_is_noticed_and_an_analyst_routes_the_origin",
    "takedown:send-referral": "tests/takedown/test_referral.py::test_only_a_senior_analyst_with_a_fresh_second_factor_sends",
    "industry:outcome": "tests/industry/test_triage.py::test_export_a_signed_referral_package_and_mark_the_outcome",
    "industry:reveal": "tests/industry/test_triage.py (a new file revealed after step-up, then hidden)",
    "industry:hide": "tests/industry/test_triage.py (a new file revealed after step-up, then hidden)",
    "survivors:release": "tests/survivors/test_review.py::test_the_held_list_and_a_release",
    "survivors:reject": "tests/survivors/test_review.py (a rejection with its reason)",
    "survivors:propose": "tests/survivors/test_review.py (a self-reported picture proposed to the bank)",
    "survivors:close": "tests/survivors/test_cases.py (a senior analyst closes a case)",
    "assessment:import-results": "tests/assessment/test_comparison.py (a signed package imported)",
    "banks:propose-picture": "tests/banks/test_feature_matching.py::test_a_picture_proposed_on_the_bank_page_keeps_its_keypoints",
}


# --- the sweep ---------------------------------------------------------------------------------


@dataclass
class World:
    make_user: object
    make_bank: object
    settings: object
    tmp_path: object
    shared: object

    def as_(self, user):
        """A separate client signed in as ``user`` (for the steps before the form)."""
        return sign_in_client(Client(), user)


@pytest.fixture
def world(make_user, make_bank, settings, tmp_path, shared):
    return World(make_user, make_bank, settings, tmp_path, shared)


def _staff_views():
    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name}", pattern.callback

    for name, callback in walk(get_resolver().url_patterns):
        if getattr(callback, "login_required", True) and not name.startswith(("admin:", "api:")):
            yield name, callback


def _handles_post(callback) -> bool:
    source = inspect.getsource(inspect.unwrap(callback))
    return "require_POST" in source or '"POST"' in source or "request.POST" in source


def test_every_staff_post_form_is_swept():
    posting = {name for name, callback in _staff_views() if _handles_post(callback)}
    assert posting, "the sweep found no form at all"
    swept = set(FORMS) | set(NOT_A_FORM) | set(COVERED_BY)
    assert posting - swept == set(), "a staff form not in FORMS (or NOT_A_FORM, COVERED_BY)"
    assert (set(FORMS) | set(COVERED_BY)) - posting == set(), "FORMS names a view that takes no POST"
    assert not set(FORMS) & set(COVERED_BY)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_successful_staff_form_redirects_to_a_page(name, world):
    post = FORMS[name](world)
    client = sign_in_client(Client(), post.user)
    before = post.once()
    response = client.post(post.url, post.data)
    assert response.status_code in (302, 303), (name, response.status_code, response.content[:400])
    location = response["Location"]
    assert not location.startswith(("/accounts/step-up/", "/accounts/sign-in/")), location
    errors = [m.message for m in response.wsgi_request._messages if m.level_tag == "error"]
    assert not errors, errors
    page = client.get(location)
    assert page.status_code == 200, (location, page.status_code)
    assert resolve(location.split("?")[0]).url_name, location
    assert (before, post.once()) == (0, 1), name
