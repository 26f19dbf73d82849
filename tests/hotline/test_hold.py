"""The law-enforcement hold: a case held for the police gets no takedown (so no notice reaches the
host) until a law-enforcement user releases it; keeping it needs a reason and a review date; an
unanswered hold follows its rule on a controlled clock; law enforcement sees held cases only."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from helpers import sign_in_client
from openmnr.audit.models import AuditEvent
from openmnr.hotline import holds, services, triage
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case
from openmnr.takedown.models import TakedownCase
from openmnr.takedown.services.opening import open_assessed

pytestmark = pytest.mark.django_db


def assessed_illegal(site, corpus, make_user, *, hold_reason="") -> Case:
    """A case an analyst classified nationally illegal and completed, held if `hold_reason`."""
    site.image("/img/c.jpg", corpus["coffee"])
    case = receive_public(ReportInput(urls=[site.page("/p.html", "/img/c.jpg")])).urls.get().case
    triage.run(case.pk)
    analyst = sign_in_client(Client(), make_user("analyst"))
    analyst.post(f"/staff/hotline/cases/{case.pk}/claim/")
    item = case.items.get()
    analyst.post(
        f"/staff/hotline/items/{item.pk}/classify/",
        {"assessment": "nationally_illegal", "category": "C", "age_group": "pubescent"},
    )
    analyst.post(f"/staff/hotline/cases/{case.pk}/complete/", {"hold_for_police": hold_reason})
    case.refresh_from_db()
    return case


def test_a_held_case_gets_no_notice_until_law_enforcement_releases_it(site, corpus, make_user):
    case = assessed_illegal(site, corpus, make_user, hold_reason="suspect known to the police")
    assert case.state == "held" and case.hold_reason == "suspect known to the police"
    assert open_assessed(timezone.now()) == 0
    assert not TakedownCase.objects.filter(pk=case.pk).exists()  # nothing could send a notice

    police = sign_in_client(Client(), make_user("law_enforcement"))
    queue = police.get("/staff/hotline/held/")
    assert queue.status_code == 200 and f"/staff/hotline/held/{case.pk}/" in queue.content.decode()
    assert police.get("/staff/hotline/").status_code == 403  # not the analysts' queue
    assert police.get(f"/staff/hotline/cases/{case.pk}/").status_code == 403

    later = timezone.now()
    police.post(f"/staff/hotline/held/{case.pk}/release/", {"reason": "no objection"})
    case.refresh_from_db()
    assert case.state == "assessed" and case.released_at >= later
    assert open_assessed(timezone.now()) == 1
    takedown = TakedownCase.objects.get(pk=case.pk)
    assert takedown.opened_at == case.released_at  # the cadence starts at the release
    assert [t.to_state for t in case.transitions.all()][-2:] == ["held", "assessed"]
    assert AuditEvent.objects.filter(action="hotline.case.transition", detail__to="assessed").exists()
    assert police.get(f"/staff/hotline/held/{case.pk}/").status_code == 404  # no longer held: not theirs


def test_keeping_a_hold_needs_a_reason_and_a_review_date_and_reminds_when_due(site, corpus, make_user):
    case = assessed_illegal(site, corpus, make_user, hold_reason="deconfliction")
    police = sign_in_client(Client(), make_user("law_enforcement"))
    response = police.post(f"/staff/hotline/held/{case.pk}/keep/", {"reason": "", "review_at": "2099-01-01"})
    assert response.status_code == 400
    response = police.post(
        f"/staff/hotline/held/{case.pk}/keep/", {"reason": "operation running", "review_at": "2000-01-01"}
    )
    assert response.status_code == 400 and "must be in the future" in response.content.decode()

    review = (timezone.now() + timedelta(days=10)).date()
    police.post(
        f"/staff/hotline/held/{case.pk}/keep/", {"reason": "operation running", "review_at": str(review)}
    )
    case.refresh_from_db()
    assert case.state == "held" and case.hold_kept_reason == "operation running"
    assert case.hold_review_at.date() == review
    assert AuditEvent.objects.filter(action="hotline.hold.keep").count() == 1

    assert holds.due(timezone.now() + timedelta(days=5)) == {"released": 0, "escalated": 0, "review_due": 0}
    assert holds.due(timezone.now() + timedelta(days=11))["review_due"] == 1
    assert holds.due(timezone.now() + timedelta(days=12))["review_due"] == 0  # reminded once
    assert "review due since" in police.get("/staff/hotline/held/").content.decode()
    case.refresh_from_db()
    assert case.state == "held"  # a kept hold is never released by the clock


@pytest.mark.parametrize("rule", ["release", "escalate"])
def test_an_unanswered_hold_follows_its_rule(site, corpus, make_user, settings, rule):
    settings.HOTLINE_HOLD_ANSWER_HOURS = 48
    settings.HOTLINE_HOLD_UNANSWERED = rule
    case = assessed_illegal(site, corpus, make_user, hold_reason="police first")
    start = case.held_at

    assert holds.due(start + timedelta(hours=47)) == {"released": 0, "escalated": 0, "review_due": 0}
    case.refresh_from_db()
    assert case.state == "held"

    counts = holds.due(start + timedelta(hours=49))
    case.refresh_from_db()
    if rule == "release":
        assert counts["released"] == 1 and case.state == "assessed"
        assert services.case_summary(case.pk).released_at == start + timedelta(hours=49)
    else:
        assert counts["escalated"] == 1 and case.state == "held" and case.hold_escalated_at
        assert AuditEvent.objects.filter(action="hotline.hold.escalate").count() == 1
        assert holds.due(start + timedelta(hours=90))["escalated"] == 0  # once


def test_the_hold_rule_holds_matching_outcomes_and_nothing_else(site, corpus, make_user, settings):
    settings.HOTLINE_HOLD_ASSESSMENTS = ["nationally_illegal"]
    case = assessed_illegal(site, corpus, make_user)
    assert case.state == "held" and "hold rule" in case.hold_reason
    settings.HOTLINE_HOLD_ASSESSMENTS = ["baseline"]
    site.image("/img/k.jpg", corpus["chelsea"])
    other = receive_public(ReportInput(urls=[site.page("/q.html", "/img/k.jpg")])).urls.get().case
    triage.run(other.pk)
    analyst = sign_in_client(Client(), make_user("analyst"))
    analyst.post(f"/staff/hotline/cases/{other.pk}/claim/")
    analyst.post(
        f"/staff/hotline/items/{other.items.get().pk}/classify/",
        {"assessment": "nationally_illegal", "category": "C", "age_group": "pubescent"},
    )
    analyst.post(f"/staff/hotline/cases/{other.pk}/complete/")
    other.refresh_from_db()
    assert other.state == "assessed"


def test_a_case_found_not_illegal_cannot_be_held(site, corpus, make_user):
    site.image("/img/c.jpg", corpus["coffee"])
    case = receive_public(ReportInput(urls=[site.page("/p.html", "/img/c.jpg")])).urls.get().case
    triage.run(case.pk)
    analyst = sign_in_client(Client(), make_user("analyst"))
    analyst.post(f"/staff/hotline/cases/{case.pk}/claim/")
    analyst.post(f"/staff/hotline/items/{case.items.get().pk}/classify/", {"assessment": "not_illegal"})
    response = analyst.post(
        f"/staff/hotline/cases/{case.pk}/complete/", {"hold_for_police": "why"}, follow=True
    )
    assert "only a case assessed illegal can be held" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "triaged"  # nothing written


def test_each_hold_rule_carries_its_own_unanswered_rule(site, corpus, make_user, settings):
    """A rule that holds with its own time and action follows it; an analyst's hold, and a hold
    from a rule without one, follow the global default."""
    settings.HOTLINE_HOLD_ANSWER_HOURS = 100
    settings.HOTLINE_HOLD_UNANSWERED = "escalate"
    settings.HOTLINE_HOLD_ASSESSMENTS = ["nationally_illegal:10:release"]
    by_rule = assessed_illegal(site, corpus, make_user)
    assert by_rule.state == "held" and (by_rule.hold_answer_hours, by_rule.hold_unanswered) == (10, "release")
    start = by_rule.held_at

    assert holds.due(start + timedelta(hours=9))["released"] == 0
    assert holds.due(start + timedelta(hours=11)) == {"released": 1, "escalated": 0, "review_due": 0}
    by_rule.refresh_from_db()
    assert by_rule.state == "assessed" and by_rule.released_at == start + timedelta(hours=11)

    settings.HOTLINE_HOLD_ASSESSMENTS = ["nationally_illegal"]  # no rule of its own: the default
    site.image("/img/k.jpg", corpus["chelsea"])
    other = receive_public(ReportInput(urls=[site.page("/q.html", "/img/k.jpg")])).urls.get().case
    triage.run(other.pk)
    analyst = sign_in_client(Client(), make_user("analyst"))
    analyst.post(f"/staff/hotline/cases/{other.pk}/claim/")
    analyst.post(
        f"/staff/hotline/items/{other.items.get().pk}/classify/",
        {"assessment": "nationally_illegal", "category": "C", "age_group": "pubescent"},
    )
    analyst.post(f"/staff/hotline/cases/{other.pk}/complete/")
    other.refresh_from_db()
    assert other.state == "held" and other.hold_answer_hours is None and other.hold_unanswered == ""
    assert holds.due(other.held_at + timedelta(hours=11)) == {"released": 0, "escalated": 0, "review_due": 0}
    assert holds.due(other.held_at + timedelta(hours=101))["escalated"] == 1
    other.refresh_from_db()
    assert other.state == "held" and other.hold_escalated_at


@pytest.mark.parametrize("entry", ["baseline:0:release", "baseline:24:forget", "not_illegal", "baseline:24"])
def test_a_hold_rule_that_does_not_parse_is_refused(entry):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="ASSESSMENT:HOURS:release|escalate"):
        holds.parse_rule(entry)
