"""Two analysts cannot hold one case: they race for it at the same moment and exactly one wins."""

import threading

import pytest
from django.db import connection
from django.test import Client

from helpers import sign_in_client
from openmnr.audit.models import AuditEvent
from openmnr.hotline import services
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case

# Two threads, two database connections: the data must be committed for both to see it.
pytestmark = pytest.mark.django_db(transaction=True)


def test_two_analysts_racing_for_one_case(make_user):
    first, second = make_user("analyst"), make_user("analyst")
    cases = []
    for n in range(5):  # several rounds, so different interleavings get a chance
        submission = receive_public(ReportInput(urls=[f"https://example.org/race/{n}"]))
        case_id = submission.urls.get().case_id
        services.transition(case_id, services.State.TRIAGED)
        cases.append(case_id)

    clients = [sign_in_client(Client(), first), sign_in_client(Client(), second)]
    for case_id in cases:
        barrier = threading.Barrier(2)
        answers = {}

        def claim(index, case_id=case_id, barrier=barrier, answers=answers):
            barrier.wait()
            try:
                answers[index] = clients[index].post(f"/staff/hotline/cases/{case_id}/claim/", follow=True)
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(index,)) for index in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        holder = Case.objects.get(pk=case_id).claimed_by
        assert holder in (first, second)
        loser = 1 if holder == first else 0
        assert "already held by" in answers[loser].content.decode()
        claims = AuditEvent.objects.filter(action="hotline.case.claim", object_id=str(case_id))
        assert claims.count() == 1 and claims.get().actor == holder.username
