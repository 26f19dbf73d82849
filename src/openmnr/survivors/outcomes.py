"""What platforms did with content that matched a survivor's hashes.

An industry member that matched an upload against the banks (POST /api/v1/match, answer
``survivor_reported``) reviews it and reports the outcome: removed, or reviewed and kept. It sends
the same signals it matched with; they are matched again here, through ``banks.services.match`` as
the caller (so only banks its role may match count), and every active item of an open case behind
a matching self-reported entry gets one ``Outcome``. The person's status page shows the counts; the
contact address, if any, gets a vague update (contact.py), at most once a day.

A report with the platform's own ``reference`` for the upload counts once, however often it is
sent again (a retry is harmless); without one, every call counts.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from openmnr.audit import services as audit
from openmnr.banks import services as banks

from .errors import InvalidSubmission
from .models import Outcome, Signal
from .states import CaseState, ItemState
from .tasks import notify_case

SELF_REPORTED = "survivor_reported"
SIGNALS = ("pdq", "md5", "sha256")


@dataclass(frozen=True)
class Reported:
    matched: bool  # it matched a self-reported picture of an open case
    counted: bool  # and this report was new (not a repeat of the same reference)


def report(items: list[dict], *, user, request=None) -> list[Reported]:
    """``items``: [{"pdq"/"md5"/"sha256": value, ..., "outcome": "removed"|"kept", "reference": str}]."""
    results = [item.get("outcome") for item in items]
    for position, outcome in enumerate(results):
        if outcome not in Outcome.Result.values:
            raise InvalidSubmission(
                f"item {position}: outcome must be one of {', '.join(Outcome.Result.values)}"
            )
    signals = [{name: item.get(name) for name in SIGNALS} for item in items]
    try:
        matched = banks.match(signals, user=user, request=request)
    except banks.BankError as error:
        raise InvalidSubmission(str(error)) from None
    answers = []
    to_notify = set()
    with transaction.atomic():
        for item, result in zip(items, matched, strict=True):
            entry_ids = {m.entry_id for m in result.matches if m.purpose == SELF_REPORTED}
            targets = (
                Signal.objects.filter(
                    entry_id__in=entry_ids, item__state=ItemState.ACTIVE, item__case__state=CaseState.OPEN
                )
                .values_list("item_id", "item__case_id")
                .distinct()
            )
            counted = False
            for item_id, case_id in set(targets):
                if _record(item_id, item["outcome"], user, (item.get("reference") or "")[:200]):
                    counted = True
                    if item["outcome"] == Outcome.Result.REMOVED:
                        to_notify.add(case_id)
            answers.append(Reported(bool(entry_ids) and bool(targets), counted))
        for case_id in sorted(to_notify):
            notify_case.enqueue(case_id)
        audit.record(
            "survivors.outcome",
            request=request,
            actor=user,
            detail={
                "items": len(items),
                "matched": sum(a.matched for a in answers),
                "counted": sum(a.counted for a in answers),
            },
        )
    return answers


def _record(item_id: int, result: str, user, reference: str) -> bool:
    try:
        with transaction.atomic():
            Outcome.objects.create(item_id=item_id, result=result, reported_by=user, reference=reference)
    except IntegrityError:  # this reference was reported before: counted once
        return False
    return True
