"""Reports that arrive together share one commit, and each is answered only once it is committed."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from openmnr.accounts.models import RateBucket
from openmnr.audit import service as audit
from openmnr.hotline.groupcommit import GroupCommit
from openmnr.hotline.intake import ReportInput, receive_public
from openmnr.hotline.models import ReportedURL, Submission

# Several threads, each with its own connection, see only committed data.
pytestmark = pytest.mark.django_db(transaction=True)


def in_thread(function, *args):
    """Start function(*args) in a thread; returns (thread, outcome dict with 'value' or 'error')."""
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def committed_keys() -> set[str]:
    """The RateBucket keys another connection can see: what has really committed."""
    _thread, outcome = in_thread(lambda: set(RateBucket.objects.values_list("key", flat=True)))
    _thread.join(10)
    return outcome["value"]


def write(key: str):
    """Work for the group: one row, and which thread ran it."""
    RateBucket.objects.create(key=key, window_start=timezone.now())
    return threading.get_ident()


def batch_behind_a_held_commit(group: GroupCommit, works) -> tuple[dict, list[dict]]:
    """Hold the committer in a first piece of work while ``works`` queue up, then let it go; the
    queued works then run as one batch. Returns the first outcome and the others'."""
    entered, release = threading.Event(), threading.Event()

    def first():
        entered.set()
        release.wait(10)
        return write("first")

    first_thread, first_outcome = in_thread(group.run, first)
    assert entered.wait(10)
    started = [in_thread(group.run, work) for work in works]
    deadline = time.monotonic() + 10
    while len(group._pending) < len(works) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread, _outcome in [(first_thread, first_outcome), *started]:
        thread.join(10)
    return first_outcome, [outcome for _thread, outcome in started]


def test_work_queued_during_a_commit_is_committed_together_and_answered_after_it():
    group = GroupCommit()
    first, outcomes = batch_behind_a_held_commit(group, [lambda i=i: write(f"k{i}") for i in range(8)])
    assert "error" not in first and all("error" not in o for o in outcomes)
    # One thread ran all eight: a single transaction and commit for the whole queue.
    assert len({o["value"] for o in outcomes}) == 1
    assert committed_keys() == {"first"} | {f"k{i}" for i in range(8)}


def test_a_failing_piece_of_work_undoes_only_its_own_writes():
    group = GroupCommit()

    def fails():
        write("doomed")
        raise IntegrityError("this one breaks a constraint")

    _first, outcomes = batch_behind_a_held_commit(group, [lambda: write("a"), fails, lambda: write("b")])
    assert "error" not in outcomes[0] and "error" not in outcomes[2]
    assert isinstance(outcomes[1]["error"], IntegrityError)
    assert committed_keys() == {"first", "a", "b"}


def test_when_the_commit_fails_every_caller_gets_the_error_and_nothing_is_written():
    group = GroupCommit()

    def breaks_the_commit():
        # Foreign keys are checked at commit: this row makes the whole batch's commit fail.
        ReportedURL.objects.create(submission_id=999_999, case_id=999_999, url_as_written="x")

    works = [lambda: write("a"), breaks_the_commit, lambda: write("b")]
    first, outcomes = batch_behind_a_held_commit(group, works)
    assert "error" not in first
    assert all(isinstance(o.get("error"), IntegrityError) for o in outcomes)
    assert committed_keys() == {"first"}


def test_inside_a_callers_transaction_the_work_commits_or_rolls_back_with_it():
    group = GroupCommit()
    with pytest.raises(RuntimeError), transaction.atomic():
        group.run(lambda: write("inside"))
        raise RuntimeError("the caller's transaction fails")
    assert committed_keys() == set()


def test_reports_filed_at_once_all_land_with_their_own_codes_and_an_intact_audit_chain():
    reports = [ReportInput(urls=[f"https://example.test/page/{i}"]) for i in range(12)]
    started = [in_thread(receive_public, report) for report in reports]
    for thread, _outcome in started:
        thread.join(30)
    codes = [outcome["value"].tracking_code for _thread, outcome in started]
    assert len(set(codes)) == 12
    assert set(Submission.objects.values_list("tracking_code", flat=True)) == set(codes)
    assert audit.verify().ok
