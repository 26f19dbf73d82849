"""Reports filed at the same moment from several threads all land, each with its own tracking code,
its triage task, and one link in an unbroken audit chain."""

import threading

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from openmnr.audit import services as audit
from openmnr.audit.models import AuditEvent
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import Case, Submission

# Several threads, each with its own connection, see only committed data.
pytestmark = pytest.mark.django_db(transaction=True)


def test_reports_filed_at_once_all_land_with_their_codes_tasks_and_an_intact_audit_chain():
    outcomes = [{} for _ in range(12)]

    def file(number: int) -> None:
        try:
            outcomes[number]["code"] = receive_public(
                ReportInput(urls=[f"https://example.test/page/{number}"])
            ).tracking_code
        except BaseException as error:
            outcomes[number]["error"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=file, args=(number,)) for number in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    codes = [outcome.get("code") for outcome in outcomes]
    assert None not in codes and len(set(codes)) == 12
    assert set(Submission.objects.values_list("tracking_code", flat=True)) == set(codes)
    # Each new case's triage task committed with it.
    case_ids = sorted(Case.objects.values_list("pk", flat=True))
    assert len(case_ids) == 12
    assert sorted(task.args_kwargs["args"][0] for task in DBTaskResult.objects.all()) == case_ids
    assert audit.verify().ok
    assert AuditEvent.objects.filter(action="hotline.report.receive").count() == 12
