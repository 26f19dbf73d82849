"""Entries that members of the public send about pictures of themselves (the survivors' page).

A bank of purpose ``survivor_reported`` holds hashes a survivor computed on their own device. They
are matched at once (a platform needs them before the picture spreads further) under their own
action class, ``survivor_reported``, which tells a platform to review before it removes: nobody
here has seen the material, so it is not confirmed. An entry reaches a bank of confirmed CSAM only
as a new proposal there, through the four-eyes rule, once an analyst has seen matching content.

The caller is anonymous, so nothing here checks a user's permission: the survivors app screens
and rate-limits what it passes on, and these functions refuse to touch a bank of any other
purpose. Entries are proposed in the name of a service account, ``openmnr-self-report``, which is
inactive and has no usable password, so it can never sign in.

One value is one entry, whoever sent it: two people (or one person twice) sending the same
picture share an entry, and the survivors app disables an entry only when no open case still
needs it. An entry that was disabled that way comes back when its value is sent again; an entry
disabled by staff (for any other reason) does not, and ``add_self_reported`` says so, so that the
survivors app can hold the picture for review.

    self_reported_bank()                                 -> Bank (created on first use)
    add_self_reported(signals, request=)                 -> [Added(entry_id, outcome)], one per signal
    disable_self_reported(entry_ids, reason=, request=)  -> how many were disabled
    screen(items)                                        -> [Screening]: what each item matches now
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.signals.base import InvalidSignalValue
from openmnr.core.signals.md5 import Md5Signal
from openmnr.core.signals.pdq import PdqSignal
from openmnr.core.signals.sha256 import Sha256Signal

from . import changes
from .matcher import get_matcher
from .models import Bank, BankEntry, Classification, Purpose

ACCOUNT = "openmnr-self-report"
BANK_NAME = "Self-reported by survivors"
#: Who matches the bank when it is created on first use (administrators may change it).
DEFAULT_MATCH_ROLES = ["analyst", "senior_analyst", "industry_member"]
#: The start of the disable reason of an entry taken out by a withdrawal or a closed case.
WITHDRAWN_MARK = "self-report:"
SIGNALS = {"pdq": PdqSignal, "md5": Md5Signal, "sha256": Sha256Signal}


class SelfReportError(ValueError):
    """A signal that cannot be accepted (unknown type or malformed value); safe to show."""


@dataclass(frozen=True)
class Added:
    """What became of one signal: ``outcome`` is "added" (a new entry), "kept" (an active entry
    already held it), "restored" (an entry withdrawn earlier is active again) or "refused" (staff
    disabled its entry: it stays disabled)."""

    entry_id: int
    outcome: str

    @property
    def refused(self) -> bool:
        return self.outcome == "refused"


def _account():
    user, created = get_user_model().objects.get_or_create(username=ACCOUNT, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def self_reported_bank() -> Bank:
    """The bank of purpose survivor_reported (the oldest, if there are several), created on first
    use. A bank an administrator disabled stays disabled: its entries are kept but not matched."""
    bank = Bank.objects.filter(purpose=Purpose.SURVIVOR_REPORTED).order_by("pk").first()
    if bank is not None:
        return bank
    with transaction.atomic():
        bank = Bank.objects.create(
            name=BANK_NAME,
            purpose=Purpose.SURVIVOR_REPORTED,
            description="Hashes that survivors computed on their own devices on the Take it down page. "
            "Not confirmed: nobody here has seen the material. Platforms review before removing.",
            provenance="Members of the public, about pictures of themselves taken when they were under 18.",
            match_roles=DEFAULT_MATCH_ROLES,
        )
        audit.record(
            "bank.create", obj=bank, detail={"purpose": bank.purpose, "match_roles": DEFAULT_MATCH_ROLES}
        )
    return bank


def validate(signal_type: str, value: str) -> str:
    """The normalised value, or SelfReportError naming the signal type (never the value)."""
    if signal_type not in SIGNALS:
        raise SelfReportError(f"unknown signal type {signal_type!r}; use {', '.join(SIGNALS)}")
    try:
        return SIGNALS[signal_type].validate(value)
    except InvalidSignalValue as error:
        raise SelfReportError(str(error)) from None


def add_self_reported(signals: list[tuple[str, str, int | None]], *, request=None) -> list[Added]:
    """Make each (signal type, value, quality) an active entry of the self-reported bank, unless
    staff disabled its entry; return what became of each, in order. Call inside the caller's
    transaction: the entries and the caller's own rows then commit together."""
    bank = self_reported_bank()
    clean = [(signal_type, validate(signal_type, value), quality) for signal_type, value, quality in signals]
    account = _account()
    results: list[Added] = []
    counts = {"added": 0, "kept": 0, "restored": 0, "refused": 0}
    with transaction.atomic():
        for signal_type, value, quality in clean:
            entry, outcome = _entry_for(bank, signal_type, value, quality, account)
            counts[outcome] += 1
            results.append(Added(entry.pk, outcome))
        audit.record("bank_entry.self_report", request=request, obj=bank, detail=counts, client_address=False)
    return results


def _entry_for(bank: Bank, signal_type: str, value: str, quality, account) -> tuple[BankEntry, str]:
    entry = (
        BankEntry.objects.select_for_update().filter(bank=bank, signal_type=signal_type, value=value).first()
    )
    if entry is None:
        try:
            with transaction.atomic():
                entry = BankEntry.objects.create(
                    bank=bank,
                    signal_type=signal_type,
                    value=value,
                    quality=quality,
                    classification=Classification.BASELINE,
                    category="self-reported",
                    status=BankEntry.Status.ACTIVE,
                    proposed_by=account,
                    source_ref="self-reported",
                    activated_at=timezone.now(),
                )
        except IntegrityError:  # sent at the same moment by someone else: share theirs
            entry = BankEntry.objects.select_for_update().get(bank=bank, signal_type=signal_type, value=value)
        else:
            changes.entry_added(entry)
            return entry, "added"
    if entry.status != BankEntry.Status.DISABLED:
        return entry, "kept"
    if not entry.disable_reason.startswith(WITHDRAWN_MARK):
        return entry, "refused"
    entry.status, entry.activated_at = BankEntry.Status.ACTIVE, timezone.now()
    entry.disabled_at, entry.disabled_by, entry.disable_reason = None, None, ""
    entry.save(update_fields=["status", "activated_at", "disabled_at", "disabled_by", "disable_reason"])
    changes.entry_added(entry)
    return entry, "restored"


def disable_self_reported(entry_ids, *, reason: str, request=None) -> int:
    """Take active entries of self-reported banks out of matching at once (they stay for the
    record, and come back if the value is sent again). Entries of other banks are left alone."""
    account = _account()
    disabled = 0
    with transaction.atomic():
        entries = BankEntry.objects.select_for_update().filter(
            pk__in=list(entry_ids), bank__purpose=Purpose.SURVIVOR_REPORTED, status=BankEntry.Status.ACTIVE
        )
        for entry in entries.order_by("pk"):
            entry.status, entry.disabled_at, entry.disabled_by = (
                BankEntry.Status.DISABLED,
                timezone.now(),
                account,
            )
            entry.disable_reason = f"{WITHDRAWN_MARK} {reason}"[:500]
            entry.save(update_fields=["status", "disabled_at", "disabled_by", "disable_reason"])
            changes.entry_disabled(entry)
            disabled += 1
        if disabled:
            audit.record(
                "bank_entry.self_disable",
                request=request,
                detail={"disabled": disabled, "reason": reason},
                client_address=False,
            )
    return disabled


@dataclass(frozen=True)
class Screening:
    """What one item matches among the active entries of every enabled bank."""

    entry_ids: frozenset[int]
    purposes: frozenset[str]

    @property
    def count(self) -> int:
        return len(self.entry_ids)


def screen(items: list[dict[str, str]]) -> list[Screening]:
    """For each item ({signal type: value}), the active entries of enabled banks it matches,
    whatever the bank (a system check, not a caller's match: nothing is audited or returned to
    the sender). Values must be valid (see ``validate``)."""
    clean = [{name: validate(name, value) for name, value in item.items() if value} for item in items]
    hits = get_matcher().lookup(clean, {"pdq": settings.BANKS_PDQ_RADIUS})
    found = {hit.entry_id for item_hits in hits for hit in item_hits}
    purpose_of = dict(
        BankEntry.objects.filter(
            pk__in=found, status=BankEntry.Status.ACTIVE, bank__enabled=True
        ).values_list("pk", "bank__purpose")
    )
    results = []
    for item_hits in hits:
        ids = frozenset(hit.entry_id for hit in item_hits if hit.entry_id in purpose_of)
        results.append(Screening(ids, frozenset(purpose_of[i] for i in ids)))
    return results
