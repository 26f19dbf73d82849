"""A finished report becomes a case: its files matched, its countries found, its place in the queue.

Matching goes through ``openmnr.banks.services.match`` in one call for all of a report's files, as
the service account ``openmnr-industry``, which holds the analyst role and so matches exactly the
banks analysts may match (it has no usable password and no second factor: nobody signs in as it).
A file is *known material* when it matches an active entry of a bank of confirmed CSAM; it takes
that entry's classification and is never shown to anyone. Everything else is new material, and a
report with new material goes ahead of every report without.
"""

import hashlib
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count

from openmnr.accounts.roles import remember_roles
from openmnr.banks import services as banks
from openmnr.core.cybertipline import documents, model, risk

from . import jurisdiction, statements
from .models import AccountKey, Case, File, Report
from .states import CaseState

SERVICE_ACCOUNT = "openmnr-industry"
SERVICE_ROLE = "analyst"
CONFIRMED_CSAM = "confirmed_csam"  # banks.models.Purpose.CONFIRMED_CSAM
ILLEGAL = ("baseline", "nationally_illegal")


_service: tuple[float, object] | None = None
SERVICE_CACHE_SECONDS = 60


def service_account():
    """The matching account; each process reuses it (its permissions and roles loaded) for a
    minute, checking only that it still exists."""
    global _service
    now = time.monotonic()
    if (
        _service is not None
        and _service[0] > now
        and statements.user_exists(get_user_model(), _service[1].pk)
    ):
        return _service[1]
    # One transaction: another thread or process never sees the account before its role (a
    # finish matches before its own transaction, so the first finishes of a new server meet here).
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=SERVICE_ACCOUNT)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=SERVICE_ROLE))
    # Its roles (which banks it may match) are trusted as long as its permissions (whether it may
    # match at all), as the API key cache does: read once here, not at every finished report.
    user.get_all_permissions()
    remember_roles(user)
    _service = (now + SERVICE_CACHE_SECONDS, user)
    return user


def facts_of(report: Report) -> model.ReportFacts:
    return model.report_facts(
        documents.parse(report.xml.encode(), "report", max_bytes=len(report.xml.encode()) + 1)
    )


def account_key(report: Report, person: model.Person) -> str | None:
    account = person.account
    if account is None:
        return None
    owner = f"user:{report.provider_id}" if report.provider_id else f"name:{report.provider_name.lower()}"
    return hashlib.sha256("\0".join((owner, *account)).encode()).hexdigest()


MATCHED_FIELDS = ["match_detail", "matched", "assessment", "category", "auto_assessed"]


def _forget_keypoints(files: list) -> None:
    """Empty the keypoints of matched files (one statement, only when some have them: with
    ``OPENMNR_MATCH_FEATURES`` off none do): they exist only for this match, and 27 kB a picture
    kept for the report's life would be the bulk of its row."""
    kept = [f.pk for f in files if f.pdq_keypoints]
    if kept:
        File.objects.filter(pk__in=kept).update(pdq_keypoints=b"")
        for file in files:
            file.pdq_keypoints = b""


def match_results(files: list) -> dict:
    """Each file's ``banks.match`` result (one call for all of them, as the service account), by
    the file's id. Reads and writes nothing of the report: a file's signals never change after its
    upload, so a result stays true of that file for as long as the banks do, and ``intake.finish``
    computes it before its transaction for the files already uploaded (``match_files``)."""
    from .files import Signals

    if not files:
        return {}
    signals = [
        Signals(
            pdq=f.pdq,
            pdq_quality=f.pdq_quality,
            vpdq=f.vpdq,
            pdq_probes=f.pdq_probes,
            pdq_keypoints=bytes(f.pdq_keypoints or b""),
        ).for_matching(f.md5, f.sha256)
        for f in files
    ]
    results = banks.match(signals, user=service_account(), record=False)
    return {file.pk: result for file, result in zip(files, results, strict=True)}


def match_files(files: list, early: dict | None = None) -> dict:
    """Match a report's files against the banks and mark each: matched, with the entry's
    classification, when it is known material. ``early`` holds results ``match_results`` computed
    before the finishing transaction, by file id; a file missing there (uploaded since) is matched
    now, so every file of the report is matched, each exactly once. Returns the counts for the
    audit event of the finishing transition, which records the match: the match itself writes no
    event of its own (``banks.match(record=False)``), so a finished report costs one event, not
    two, and the auditor still reads who matched how many files with what result."""
    found = dict(early or {})
    found.update(match_results([f for f in files if f.pk not in found]))
    results = [found[file.pk] for file in files]
    _forget_keypoints(files)
    for file, result in zip(files, results, strict=True):
        detail = [
            {
                "bank": m.bank,
                "purpose": m.purpose,
                "entry": m.entry_id,
                "signal_type": m.signal_type,
                "distance": m.distance,
                "classification": m.classification,
                "category": m.category,
                # Found by local features (OPENMNR_MATCH_FEATURES): how many keypoints agreed.
                **({"method": m.method, "inliers": m.inliers} if m.method == "features" else {}),
            }
            for m in result.matches
        ]
        known = sorted(
            (m for m in detail if m["purpose"] == CONFIRMED_CSAM and m["classification"] in ILLEGAL),
            key=lambda m: (m["classification"] != "baseline", m["distance"]),
        )
        file.match_detail, file.matched = detail, bool(known)
        if known:
            file.assessment, file.category, file.auto_assessed = (
                known[0]["classification"],
                known[0]["category"],
                True,
            )
    # Only the files that matched something change: a file that matched nothing keeps the defaults
    # it was created with (no detail, not matched), so writing it again would change no column.
    # One plain UPDATE per changed file costs a fraction of Django's CASE-per-column bulk_update.
    for file in files:
        if file.match_detail:
            statements.update_columns(file, MATCHED_FIELDS, id=file.pk)
    return {
        "matched_as": SERVICE_ACCOUNT,  # the account match_results matched as
        "files": len(files),
        "matched": sum(r.matched for r in results),
        "known": sum(f.matched for f in files),
    }


def open_case(report: Report, files: list, *, request=None) -> Case:
    """Create the case of a report just finished (inside the finishing transaction), from its
    ``files`` as ``match_files`` left them."""
    facts = facts_of(report)
    found = jurisdiction.places(facts, files)
    countries, concerns_home = jurisdiction.summary(found)
    home = jurisdiction.home_country()
    keys = sorted({k for p in facts.people if p.role == "reported" and (k := account_key(report, p))})
    earlier = statements.cases_with_keys(keys)
    listed = sum(len(p.prior_reports) for p in facts.people if p.role == "reported")
    known = sum(f.matched for f in files)
    assessed = risk.assess(
        risk.RiskInput(
            escalate=facts.escalate,
            new_files=len(files) - known,
            known_files=known,
            victim_home=tuple(s for role, c, s in found if role == "victim" and c == home),
            reported_home=tuple(s for role, c, s in found if role == "reported" and c == home),
            prior_reports=earlier + listed,
            home_country=home,
        )
    )
    case = Case(
        report=report,
        state=CaseState.QUEUED,
        opened_at=report.finished_at or report.changed_at,
        risk=assessed.score,
        reasons=list(assessed.reasons),
        countries=countries,
        places=[list(p) for p in found],
        concerns_home=concerns_home,
        new_files=len(files) - known,
        known_files=known,
        prior_reports=earlier + listed,
    )
    statements.insert(case)
    for key in keys:
        statements.insert(AccountKey(case=case, key=key))
    return case


def linked_cases(case: Case, limit: int = 200) -> list[Case]:
    """Cases linked to ``case`` through the same reported account or the same file (SHA-256),
    followed transitively, at most ``limit``; ``case`` first, then by risk."""
    seen, frontier = {case.pk}, [case.pk]
    while frontier and len(seen) < limit:
        keys = AccountKey.objects.filter(case__in=frontier).values_list("key", flat=True)
        by_key = AccountKey.objects.filter(key__in=list(keys)).values_list("case", flat=True)
        digests = Case.objects.filter(pk__in=frontier).values_list("report__files__sha256", flat=True)
        by_file = Case.objects.filter(report__files__sha256__in=[d for d in digests if d]).values_list(
            "pk", flat=True
        )
        new = [pk for pk in {*by_key, *by_file} if pk not in seen][: limit - len(seen)]
        seen.update(new)
        frontier = new
    others = (
        Case.objects.filter(pk__in=seen - {case.pk}).select_related("report").order_by("-risk", "opened_at")
    )
    return [case, *others.annotate(files=Count("report__files"))]
