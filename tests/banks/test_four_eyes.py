"""Four eyes: an entry of a bank of confirmed material is matched only after enough different
senior analysts, none of them its proposer, have confirmed it."""

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import services
from openmnr.banks.models import BankEntry, Purpose

PDQ = "f8f8f0cce0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def _matches(user, pdq=PDQ):
    return services.match([{"pdq": pdq}], user=user)[0]


@pytest.fixture
def analyst(make_user):
    return make_user("analyst")


def _propose(bank, analyst, value=PDQ):
    return services.propose_entry(
        bank, signal_type="pdq", value=value, classification="baseline", category="csam", by=analyst
    )


@pytest.mark.django_db
def test_one_confirmation_is_not_enough_two_different_seniors_are(make_bank, analyst, seniors):
    bank = make_bank()
    entry = _propose(bank, analyst)
    assert entry.status == BankEntry.Status.PENDING
    assert not _matches(analyst).matched

    services.confirm_entry(entry, by=seniors[0])
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.PENDING
    assert not _matches(analyst).matched

    services.confirm_entry(entry, by=seniors[1])
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.ACTIVE
    result = _matches(analyst)
    assert result.matched and result.action == "confirmed_csam"
    assert [m.entry_id for m in result.matches] == [entry.pk]
    assert AuditEvent.objects.filter(action="bank_entry.confirm", object_id=str(entry.pk)).count() == 2


@pytest.mark.django_db
def test_nobody_confirms_their_own_proposal(make_bank, seniors):
    proposer, other = seniors
    entry = _propose(make_bank(), proposer)
    with pytest.raises(services.FourEyesViolation):
        services.confirm_entry(entry, by=proposer)
    assert AuditEvent.objects.filter(
        action="bank_entry.confirm", object_id=str(entry.pk), outcome="denied", actor=proposer.username
    ).exists()
    services.confirm_entry(entry, by=other)
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.PENDING  # the proposer's own vote never counted


@pytest.mark.django_db
def test_the_same_senior_cannot_confirm_twice(make_bank, analyst, seniors):
    entry = _propose(make_bank(), analyst)
    services.confirm_entry(entry, by=seniors[0])
    with pytest.raises(services.FourEyesViolation):
        services.confirm_entry(entry, by=seniors[0])
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.PENDING
    assert entry.confirmations.count() == 1


@pytest.mark.django_db
def test_an_analyst_cannot_confirm(make_bank, make_user, analyst):
    entry = _propose(make_bank(), analyst)
    with pytest.raises(services.NotAllowed):
        services.confirm_entry(entry, by=make_user("analyst"))


@pytest.mark.django_db
def test_the_number_of_confirmations_is_a_setting(settings, make_bank, analyst, make_user):
    settings.BANKS_CONFIRMATIONS_REQUIRED = 3
    entry = _propose(make_bank(), analyst)
    for count in range(3):
        entry.refresh_from_db()
        assert entry.status == BankEntry.Status.PENDING, count
        services.confirm_entry(entry, by=make_user("senior_analyst"))
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.ACTIVE


@pytest.mark.django_db
def test_banks_without_confirmation_take_entries_at_once(make_bank, analyst):
    entry = _propose(make_bank(Purpose.KNOWN_NON_ILLEGAL), analyst)
    assert entry.status == BankEntry.Status.ACTIVE
    result = _matches(analyst)
    assert result.matched and result.action == "known_non_illegal"


@pytest.mark.django_db
def test_disabled_entries_stop_matching_and_are_kept(make_bank, analyst, seniors):
    entry = _propose(make_bank(Purpose.PARTNER_LIST), analyst)
    assert _matches(analyst).matched
    with pytest.raises(services.InvalidInput):
        services.disable_entry(entry, by=seniors[0], reason="  ")
    services.disable_entry(entry, by=seniors[0], reason="false positive on review")
    assert not _matches(analyst).matched
    entry.refresh_from_db()
    assert entry.status == BankEntry.Status.DISABLED and entry.disabled_by == seniors[0]
    event = AuditEvent.objects.get(action="bank_entry.disable", object_id=str(entry.pk), outcome="success")
    assert PDQ not in str(event.detail)


@pytest.mark.django_db
def test_propose_and_confirm_are_audited_without_the_value(make_bank, analyst, seniors):
    entry = _propose(make_bank(), analyst)
    for senior in seniors:
        services.confirm_entry(entry, by=senior)
    events = AuditEvent.objects.filter(action__startswith="bank_entry.")
    assert [e.action for e in events.order_by("seq")] == [
        "bank_entry.propose",
        "bank_entry.confirm",
        "bank_entry.confirm",
    ]
    assert all(PDQ not in str(e.detail) and PDQ[:16] not in str(e.detail) for e in events)


@pytest.mark.django_db
def test_proposals_are_checked(make_bank, analyst):
    bank = make_bank()
    with pytest.raises(services.InvalidInput):
        _propose(bank, analyst, value="not a hash")
    with pytest.raises(services.InvalidInput):
        services.propose_entry(bank, signal_type="pdq", value=PDQ, classification="awful", by=analyst)
    _propose(bank, analyst)
    with pytest.raises(services.DuplicateEntry):
        _propose(bank, analyst, value=PDQ.upper())


@pytest.mark.django_db
def test_staff_see_and_work_only_on_banks_open_to_their_role(make_bank, analyst):
    hidden = make_bank(match_roles=["senior_analyst"])
    assert hidden not in services.visible_banks(analyst)
    with pytest.raises(services.NotAllowed):
        _propose(hidden, analyst)


@pytest.mark.django_db
def test_an_import_into_a_confirmed_bank_waits_for_two_other_seniors(make_bank, make_user):
    bank = make_bank()
    importer, first, second = (make_user("senior_analyst") for _ in range(3))
    data = f"pdq {PDQ}\n".encode()
    batch = services.import_entries(bank, data, fmt="local", by=importer, classification="baseline")
    assert batch.added == 1 and batch.activated_at is None
    assert not _matches(importer).matched
    with pytest.raises(services.FourEyesViolation):
        services.confirm_import(batch, by=importer)
    entry = bank.entries.get()
    with pytest.raises(services.WrongState):
        services.confirm_entry(entry, by=first)  # imported entries are confirmed with their import
    services.confirm_import(batch, by=first)
    assert not _matches(importer).matched
    services.confirm_import(batch, by=second)
    assert _matches(importer).matched
