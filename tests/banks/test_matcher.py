"""The per-process matcher: snapshots, following the change log, and recovering when the log or
the database is not the one it expects."""

import io
import json

import pytest

from openmnr.banks import matcher, services, snapshots
from openmnr.banks.models import IndexChange, IndexHead, Purpose


def _value(i: int) -> str:
    return f"{i:064x}"


@pytest.fixture
def people(make_user):
    return make_user("analyst"), make_user("senior_analyst")


@pytest.fixture
def bank(make_bank):
    return make_bank(Purpose.KNOWN_NON_ILLEGAL)


def _add(bank, user, i):
    return services.propose_entry(
        bank, signal_type="pdq", value=_value(i), classification="not_illegal", by=user
    )


def _found(m, i):
    (hits,) = m.lookup([{"pdq": _value(i)}], {"pdq": 0})
    return [hit.entry_id for hit in hits]


@pytest.mark.django_db
def test_follows_additions_and_disables_in_order(bank, people, tmp_path):
    analyst, senior = people
    m = matcher.Matcher(tmp_path, poll_seconds=0)
    first = _add(bank, analyst, 1)
    assert _found(m, 1) == [first.pk]
    services.disable_entry(first, by=senior, reason="duplicate of another list")
    second = _add(bank, analyst, 2)
    assert _found(m, 1) == [] and _found(m, 2) == [second.pk]
    assert m.seq == 3 and m.loaded_from == "database"


@pytest.mark.django_db
def test_a_snapshot_of_another_database_is_not_used(bank, people, tmp_path):
    entry = _add(bank, people[0], 1)
    snapshots.write_snapshot(tmp_path)
    IndexHead.objects.update(epoch="another-db")  # as if this database had been replaced
    m = matcher.Matcher(tmp_path, poll_seconds=0)
    assert _found(m, 1) == [entry.pk]
    assert m.loaded_from == "database"
    assert json.loads((tmp_path / "current.json").read_text())["epoch"] == "another-db"


@pytest.mark.django_db
def test_a_process_behind_a_pruned_log_reloads(bank, people, tmp_path):
    m = matcher.Matcher(tmp_path, poll_seconds=0)
    first = _add(bank, people[0], 1)
    assert _found(m, 1) == [first.pk] and m.seq == 1
    entries = [_add(bank, people[0], i) for i in range(2, 5)]
    IndexChange.objects.filter(seq__lte=3).delete()  # pruned while this process was idle
    assert [_found(m, i) for i in range(2, 5)] == [[e.pk] for e in entries]
    assert m.seq == 4


@pytest.mark.django_db
def test_a_new_process_starts_from_the_snapshot(bank, people, tmp_path):
    analyst, senior = people
    kept = _add(bank, analyst, 1)
    services.disable_entry(_add(bank, analyst, 2), by=senior, reason="listed in error")
    saved = snapshots.write_snapshot(tmp_path)
    assert (saved.seq, saved.count()) == (3, 1)
    later = _add(bank, analyst, 3)
    m = matcher.Matcher(tmp_path, poll_seconds=0)
    assert (_found(m, 1), _found(m, 2), _found(m, 3)) == ([kept.pk], [], [later.pk])
    assert m.loaded_from == "snapshot" and m.seq == 4


@pytest.mark.django_db
def test_the_snapshot_command_writes_the_current_snapshot(bank, people, settings):
    from django.core.management import call_command

    entry = _add(bank, people[0], 1)
    out = io.StringIO()
    call_command("bank_snapshot", stdout=out)
    assert "seq 1: 1 values" in out.getvalue()
    loaded = snapshots.read_snapshot(settings.BANKS_INDEX_DIR)
    assert list(loaded["pdq"].query(_value(1), 0).ids) == [entry.pk]


@pytest.mark.django_db
def test_a_change_seen_before_its_rollback_does_not_hide_the_next_one(bank, people, tmp_path):
    from django.db import transaction

    m = matcher.Matcher(tmp_path, poll_seconds=3600)  # only this process's own writes wake it
    with pytest.raises(RuntimeError), transaction.atomic():
        _add(bank, people[0], 1)
        assert _found(m, 1) and m.seq == 1  # applied while uncommitted
        raise RuntimeError("the writer's transaction fails")
    later = _add(bank, people[0], 2)  # gets seq 1 again, with another token
    assert _found(m, 2) == [later.pk]
    assert m.seq == 1
