"""Every refusal of the banks services is raised as a typed BankError, changes nothing, and is
audited once, as "denied" (permission, four eyes) or "failure" (the rest), without a hash value."""

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import services
from openmnr.banks.models import Bank, BankEntry, ImportBatch, Purpose

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


@pytest.fixture
def people(make_user):
    return {role: make_user(role) for role in ("analyst", "senior_analyst", "industry_member")}


def _pending(bank, analyst):
    return services.propose_entry(bank, signal_type="pdq", value=PDQ, classification="baseline", by=analyst)


REFUSALS = {
    "bank.save": lambda bank, p: services.save_bank(bank, match_accounts=[], by=p["senior_analyst"]),
    "bank_entry.propose": lambda bank, p: services.propose_entry(
        bank, signal_type="pdq", value=PDQ, classification="baseline", by=p["industry_member"]
    ),
    "bank_entry.confirm": lambda bank, p: services.confirm_entry(
        _pending(bank, p["senior_analyst"]), by=p["senior_analyst"]
    ),
    "bank_entry.disable": lambda bank, p: services.disable_entry(
        _pending(bank, p["analyst"]), by=p["senior_analyst"], reason="  "
    ),
    "bank.import": lambda bank, p: services.import_entries(
        bank,
        f"pdq {PDQ}\nsha1 {PDQ}\n".encode(),
        fmt="local",
        by=p["senior_analyst"],
        classification="baseline",
    ),
    "bank.import_confirm": lambda bank, p: services.confirm_import(
        services.import_entries(
            bank, f"pdq {PDQ}\n".encode(), fmt="local", by=p["senior_analyst"], classification="baseline"
        ),
        by=p["senior_analyst"],
    ),
    "bank.export": lambda bank, p: services.export_bank(
        bank, fmt="local", passphrase="short", by=p["senior_analyst"]
    ),
}
EXPECTED = {
    "bank.save": ("denied", "NotAllowed"),
    "bank_entry.propose": ("denied", "NotAllowed"),
    "bank_entry.confirm": ("denied", "FourEyesViolation"),
    "bank_entry.disable": ("failure", "InvalidInput"),
    "bank.import": ("failure", "InvalidInput"),
    "bank.import_confirm": ("denied", "FourEyesViolation"),
    "bank.export": ("failure", "InvalidInput"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("action", sorted(REFUSALS))
def test_each_refusal_is_typed_changes_nothing_and_is_audited(action, make_bank, people):
    bank = make_bank(Purpose.CONFIRMED_CSAM)
    before = (
        Bank.objects.count(),
        BankEntry.objects.filter(status="active").count(),
        ImportBatch.objects.count(),
    )
    with pytest.raises(services.BankError) as refused:
        REFUSALS[action](bank, people)
    outcome, reason = EXPECTED[action]
    assert type(refused.value).__name__ == reason
    [event] = AuditEvent.objects.filter(action=action).exclude(outcome="success")
    assert (event.outcome, event.detail) == (outcome, {"reason": reason})
    assert PDQ not in str(event.detail) and PDQ not in str(refused.value)
    if action == "bank.import":  # all or nothing: neither the batch nor its first line stays
        assert (ImportBatch.objects.count(), bank.entries.count()) == (before[2], 0)
    assert BankEntry.objects.filter(status="active").count() == before[1]
