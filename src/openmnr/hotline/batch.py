"""Batch intake: up to 100 partner reports in one request, each filed or refused on its own.

A partner that files thousands of reports an hour pays, per single request, for a TLS exchange, a
key lookup, a rate-limit count and above all a commit (a WAL flush on PostgreSQL) for each report.
A batch pays them once. What it must not change is what a report is: each one still carries its
own Idempotency-Key, is checked on its own, and is written whole or not at all.

The batch is one transaction. Its new reports are first filed together, with a handful of
statements for the whole batch (``_file_together``: the open cases looked up and locked at once,
new cases, submissions, links and audit events each in one INSERT, one fan-out task that queues
each new case's triage), inside a savepoint. If that meets a concurrent writer (a key or a case
taken between the look-up and the insert: an IntegrityError), the savepoint is rolled back and the
reports are filed one at a time, each in its own savepoint, as follows.

Each report in its own savepoint: a report that fails (a bad
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
from django.db.models import F

from openmnr.audit import services as audit

from . import codes, intake, tasks
from .errors import InvalidReport
from .models import Case, ReportedURL, Source, Submission
from .states import OPEN

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
    checked = {}  # item index -> (its canonical URLs, its request digest)
    for index, item in enumerate(items):
        try:
            if item.invalid:
                raise InvalidReport(item.invalid)
            intake.check_idempotency_key(item.idempotency_key)
            checked[index] = (intake.urls_of(item.report), intake.request_digest(item.report))
        except InvalidReport as exc:
            answers[index] = Answer(REFUSED, detail=str(exc))
    with transaction.atomic():
        earlier = {  # Idempotency-Key -> (submission id, its request digest)
            key: (pk, digest)
            for pk, key, digest in Submission.objects.filter(
                api_key=api_key, idempotency_key__in={items[index].idempotency_key for index in checked}
            ).values_list("pk", "idempotency_key", "request_sha256")
        }
        first_of_key: dict[str, int] = {}
        for index in checked:
            first_of_key.setdefault(items[index].idempotency_key, index)
        new = [index for key, index in first_of_key.items() if key not in earlier]
        if new:
            try:
                with transaction.atomic():
                    filed = _file_together(
                        [(index, items[index], *checked[index]) for index in new], api_key, request
                    )
            except IntegrityError:
                pass  # a concurrent writer took a key or opened a case first: one report at a time below
            else:
                for index, pk in filed.items():
                    earlier[items[index].idempotency_key] = (pk, checked[index][1])
                    answers[index] = Answer(ACCEPTED, id=pk)
        for index, (urls, digest) in checked.items():
            if answers[index] is None:
                answers[index] = _file_alone(items[index], urls, digest, earlier, api_key, request)
    return answers


def _file_alone(item: BatchItem, urls, digest: str, earlier: dict, api_key, request) -> Answer:
    """One report in its own savepoint (the slow path), or the answer for a key seen before;
    `earlier` learns the key."""
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
                return Answer(TRY_AGAIN, detail="the report could not be filed now; send it again")
            earlier[item.idempotency_key] = row
        else:
            earlier[item.idempotency_key] = (submission.pk, digest)
            return Answer(ACCEPTED, id=submission.pk)
    pk, first_digest = earlier[item.idempotency_key]
    if first_digest == digest:
        return Answer(REPEATED, id=pk)
    return Answer(CONFLICT, detail="this Idempotency-Key was already used for a different report")


def _file_together(new: list[tuple[int, BatchItem, list, str]], api_key, request) -> dict[int, int]:
    """File every new report of the batch with a handful of statements in all (the fast path):
    {item index: submission id}. Raises IntegrityError when a concurrent writer used one of the
    Idempotency-Keys or opened one of the cases first; the caller's savepoint then rolls it all
    back and the reports are filed one at a time."""
    wanted: dict[str, object] = {}
    naming: dict[str, int] = {}
    for _index, _item, urls, _digest in new:
        for _written, canonical in urls:
            wanted.setdefault(canonical.sha256, canonical)
            naming[canonical.sha256] = naming.get(canonical.sha256, 0) + 1
    cases = {
        case.url_sha256: case
        for case in Case.objects.select_for_update()
        .filter(url_sha256__in=wanted, state__in=OPEN)
        .only("pk", "url_sha256")
    }
    joined = set(cases)
    opened = Case.objects.bulk_create(
        [Case(url=wanted[sha].url, url_sha256=sha) for sha in wanted if sha not in cases]
    )
    cases.update((case.url_sha256, case) for case in opened)
    # Each case gets one more reporter per report naming it; a case opened here starts at one.
    by_increment: dict[int, list[int]] = {}
    for sha, count in naming.items():
        increment = count if sha in joined else count - 1
        if increment:
            by_increment.setdefault(increment, []).append(cases[sha].pk)
    for increment, pks in by_increment.items():
        Case.objects.filter(pk__in=pks).update(reporter_count=F("reporter_count") + increment)
    submissions = Submission.objects.bulk_create(
        [
            Submission(
                tracking_code=codes.new_code(),
                source=Source.PARTNER,
                found_where=item.report.found_where,
                content_kind=item.report.content_kind,
                description=item.report.description,
                partner_reference=item.report.partner_reference,
                platform=item.report.platform,
                username=item.report.username,
                api_key=api_key,
                idempotency_key=item.idempotency_key,
                request_sha256=digest,
            )
            for _index, item, _urls, digest in new
        ]
    )
    links, details, first_reports = [], [], set()
    for (_index, item, urls, _digest), submission in zip(new, submissions, strict=True):
        new_cases = 0
        for written, canonical in urls:
            links.append(
                ReportedURL(submission=submission, case=cases[canonical.sha256], url_as_written=written)
            )
            if canonical.sha256 not in joined and canonical.sha256 not in first_reports:
                first_reports.add(canonical.sha256)
                new_cases += 1
        details.append(
            {
                "source": Source.PARTNER,
                "theme": item.report.content_kind,
                "urls": len(urls),
                "new_cases": new_cases,
            }
        )
    ReportedURL.objects.bulk_create(links)
    audit.record_many("hotline.report.receive", submissions, details, request=request)
    tasks.enqueue_triage_many([case.pk for case in opened])
    return {index: submission.pk for (index, *_rest), submission in zip(new, submissions, strict=True)}
