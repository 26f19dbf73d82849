"""Batch intake: up to 100 partner reports in one request, each filed or refused on its own.

A partner that files thousands of reports an hour pays, per single request, for a TLS exchange, a
key lookup, a rate-limit count and above all a commit (a WAL flush on PostgreSQL) for each report.
A batch pays them once. What it must not change is what a report is: each one still carries its
own Idempotency-Key, is checked on its own, and is written whole or not at all.

So the batch is one transaction in which each report is a savepoint: a report that fails (a bad
URL, an Idempotency-Key reused for another body, two copies racing on the same key) rolls back to
its savepoint and is answered with its reason, and the others go on. The answers are sent only
after the one commit, so an acknowledged report is a committed report; if the commit itself fails
(the database went away), no report of the batch is acknowledged and the partner retries the whole
batch, which the Idempotency-Keys make safe. The trade-off: the reports of one batch become visible
together, and a batch holds the audit chain's head row for its whole transaction (a few ms per
report), which serialises batches against each other and against other audited writes. That is the
same lock every audited write takes; the batch only holds it longer, once instead of many times.

Answers, one per report and in the order sent: ``202`` filed now, ``200`` filed before under this
Idempotency-Key with the same body (a retry), ``400`` refused as sent, ``409`` the
Idempotency-Key was used for another body, ``503`` not filed for a passing reason (send it
again). A key repeated inside one batch is treated as a retry
of its first occurrence.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from . import intake
from .errors import InvalidReport
from .models import Source, Submission

MAX_REPORTS = 100

ACCEPTED, REPEATED, REFUSED, CONFLICT, TRY_AGAIN = 202, 200, 400, 409, 503


@dataclass(frozen=True)
class BatchItem:
    """One report of a batch, or the reason it could not even be read (`invalid`)."""

    idempotency_key: str
    report: intake.ReportInput | None
    invalid: str = ""


@dataclass(frozen=True)
class Answer:
    status: int
    id: int | None = None
    detail: str = ""


def receive(items: list[BatchItem], *, api_key, request=None) -> list[Answer]:
    """File each report of the batch for `api_key`; one `Answer` per item, in order."""
    if not 1 <= len(items) <= MAX_REPORTS:
        raise InvalidReport(f"a batch holds 1 to {MAX_REPORTS} reports")
    answers: list[Answer | None] = [None] * len(items)
    checked = {}
    for index, item in enumerate(items):
        try:
            if item.invalid:
                raise InvalidReport(item.invalid)
            intake.check_idempotency_key(item.idempotency_key)
            checked[index] = (intake.canonical_urls(item.report.urls), intake.request_digest(item.report))
        except InvalidReport as exc:
            answers[index] = Answer(REFUSED, detail=str(exc))
    keys = {items[index].idempotency_key for index in checked}
    with transaction.atomic():
        earlier = {
            key: (pk, digest)
            for pk, key, digest in Submission.objects.filter(
                api_key=api_key, idempotency_key__in=keys
            ).values_list("pk", "idempotency_key", "request_sha256")
        }
        for index, (urls, digest) in checked.items():
            item = items[index]
            if item.idempotency_key not in earlier:
                try:
                    with transaction.atomic():
                        submission = intake.file_checked(
                            item.report,
                            urls,
                            source=Source.PARTNER,
                            request=request,
                            api_key=api_key,
                            idempotency_key=item.idempotency_key,
                            request_sha256=digest,
                        )
                except IntegrityError:
                    # Another request with this key committed while this one ran: its report stands.
                    found = Submission.objects.filter(api_key=api_key, idempotency_key=item.idempotency_key)
                    row = found.values_list("pk", "request_sha256").first()
                    if row is None:  # the URL's case changed under it twice: nothing was written
                        answers[index] = Answer(
                            TRY_AGAIN, detail="the report could not be filed now; send it again"
                        )
                        continue
                    earlier[item.idempotency_key] = row
                else:
                    earlier[item.idempotency_key] = (submission.pk, digest)
                    answers[index] = Answer(ACCEPTED, id=submission.pk)
                    continue
            pk, first_digest = earlier[item.idempotency_key]
            if first_digest == digest:
                answers[index] = Answer(REPEATED, id=pk)
            else:
                answers[index] = Answer(
                    CONFLICT, detail="this Idempotency-Key was already used for a different report"
                )
    return answers
