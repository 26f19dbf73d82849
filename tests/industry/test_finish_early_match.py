"""A finish matches the files already uploaded before its transaction and any file uploaded in
between inside it: every file of the report is matched exactly once, whatever the timing, and
a provider's finish never matches another provider's files."""

import pytest

from openmnr.industry import intake, statements, triage
from openmnr.industry.importer import _spooled
from openmnr.industry.models import Source


def _upload(provider, report, data, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    return intake.upload(provider.user, report.pk, _spooled(path))


@pytest.fixture
def matched_items(monkeypatch):
    """How many files each ``banks.match`` call of the triage matched."""
    calls, real = [], triage.banks.match

    def counting(items, **kwargs):
        calls.append(len(items))
        return real(items, **kwargs)

    monkeypatch.setattr(triage.banks, "match", counting)
    return calls


@pytest.mark.django_db
def test_files_uploaded_before_the_finish_are_matched_once_before_its_transaction(
    provider, known_bank, docs, tmp_path, matched_items
):
    report = intake.submit(provider.user, docs.report())
    _upload(provider, report, docs.known, tmp_path, "known.jpg")
    _upload(provider, report, docs.new, tmp_path, "new.jpg")
    report, ids = intake.finish(provider.user, report.pk)
    assert matched_items == [2]  # one call, before the transaction; none inside
    assert (report.case.known_files, report.case.new_files) == (1, 1)
    assert len(ids) == 2


@pytest.mark.django_db
def test_a_file_uploaded_after_the_early_match_is_matched_inside(
    provider, known_bank, docs, tmp_path, matched_items, monkeypatch
):
    report = intake.submit(provider.user, docs.report())
    _upload(provider, report, docs.new, tmp_path, "new.jpg")
    seen_early = statements.files_of_open_report(provider.user.pk, report.pk, Source.API)
    late = _upload(provider, report, docs.known, tmp_path, "known.jpg")
    # The finish's early read sees only the first file, as if the second arrived just after it.
    monkeypatch.setattr(statements, "files_of_open_report", lambda *args: seen_early)
    report, ids = intake.finish(provider.user, report.pk)
    assert matched_items == [1, 1]  # the early file before, the late one inside
    assert (report.case.known_files, report.case.new_files) == (1, 1)
    files = {f.file_id: f for f in report.files.all()}
    assert files[late.file_id].matched and not files[ids[0]].matched


@pytest.mark.django_db
def test_the_early_read_sees_only_the_providers_own_open_report(
    provider, make_provider, known_bank, docs, tmp_path
):
    report = intake.submit(provider.user, docs.report())
    _upload(provider, report, docs.known, tmp_path, "known.jpg")
    other = make_provider()
    assert statements.files_of_open_report(other.user.pk, report.pk, Source.API) == []
    assert len(statements.files_of_open_report(provider.user.pk, report.pk, Source.API)) == 1
    intake.finish(provider.user, report.pk)
    assert statements.files_of_open_report(provider.user.pk, report.pk, Source.API) == []  # finished


@pytest.mark.django_db(transaction=True)
def test_the_first_finishes_of_a_new_server_all_find_the_matching_account_with_its_role():
    """A finish looks up the matching account before its transaction: threads that create it at
    the same moment must each get it with its role (a missing role answers 1000)."""
    import threading

    from django.db import connection

    from openmnr.accounts.roles import sync_roles

    sync_roles()
    barrier, found, errors = threading.Barrier(6), [], []

    def first_finish():
        try:
            barrier.wait()
            found.append(triage.service_account().has_perm("banks.match_hashes"))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))
        finally:
            connection.close()

    triage._service = None
    threads = [threading.Thread(target=first_finish) for _ in range(6)]
    [thread.start() for thread in threads]
    [thread.join(60) for thread in threads]
    triage._service = None
    assert errors == [] and found == [True] * 6
