"""The case state machine: every allowed move is audited, every other move is refused."""

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.hotline import services
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.states import ALLOWED, State, public_status

pytestmark = pytest.mark.django_db


def _case(url="https://example.org/page"):
    submission = receive_public(ReportInput(urls=[url]))
    return submission.urls.get().case


@pytest.mark.parametrize("start", list(State))
def test_only_the_moves_of_the_machine_are_allowed(start, make_user):
    actor = make_user("analyst")
    for target in State:
        case = _case(f"https://example.org/{start}/{target}")
        case.state = start
        case.save(update_fields=["state"])
        before = AuditEvent.objects.filter(action="hotline.case.transition").count()
        if target in ALLOWED[start]:
            moved = services.transition(case.pk, target, actor=actor, reason="test")
            assert moved.state == target
            event = AuditEvent.objects.filter(action="hotline.case.transition").latest("seq")
            assert event.detail == {"from": start, "to": target, "reason": "test"}
            assert event.actor == actor.username and event.object_id == str(case.pk)
        else:
            with pytest.raises(services.TransitionNotAllowed):
                services.transition(case.pk, target, actor=actor)
            case.refresh_from_db()
            assert case.state == start
            assert AuditEvent.objects.filter(action="hotline.case.transition").count() == before


def test_takedown_moves_an_illegal_case_to_actioned_then_closed(make_user):
    case = _case()
    services.transition(case.pk, State.TRIAGED)
    case.refresh_from_db()
    case.assessment, case.category = "baseline", "A"
    case.save()
    services.transition(case.pk, State.ASSESSED)
    assert [c.id for c in services.cases_to_act_on()] == [case.pk]
    services.transition(case.pk, State.ACTIONED, reason="notice sent")
    assert services.cases_to_act_on() == []
    assert services.case_summary(case.pk).state == "actioned"
    services.transition(case.pk, State.CLOSED, reason="content removed")
    with pytest.raises(services.TransitionNotAllowed):
        services.transition(case.pk, State.ACTIONED)
    with pytest.raises(services.CaseNotFound):
        services.transition(999_999, State.CLOSED)


def test_a_closed_url_reported_again_opens_a_new_case():
    first = _case()
    services.transition(first.pk, State.NOT_ACTIONABLE, reason="gone")
    second = _case()
    assert second.pk != first.pk and second.reporter_count == 1


def test_the_reporter_sees_the_least_advanced_of_their_urls():
    assert public_status(["received", "actioned"]) == "received"
    assert public_status(["triaged", "assessed"]) == "being_assessed"
    assert public_status(["actioned", "closed"]) == "action_taken"
    assert public_status(["closed", "duplicate", "not_actionable"]) == "closed"
