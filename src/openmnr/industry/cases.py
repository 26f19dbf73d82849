"""Working industry report cases: the queue, a first view, outcomes and referral packages.

``transition`` is the case state machine's one door (see states.py): it locks the case, checks the
move, writes the case's history and the audit event in one transaction. Every function checks the
caller's permission itself, so a view that forgot its decorator still refuses.
"""

import hashlib
import mimetypes
import secrets
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core import referral as core_referral

from . import annotations, evidence, triage
from .models import Case, CaseTransition
from .states import CASE_ALLOWED, CaseState, Outcome, TransitionNotAllowed


class CaseError(Exception):
    """A refused action on a case; the message is safe to show."""


def _require(user, permission: str) -> None:
    if not user.has_perm(permission):
        raise CaseError("your role may not do that")


def transition(case_id: int, to: str, *, request=None, actor=None, reason: str = "", **changes) -> Case:
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise CaseError(f"there is no industry case {case_id}")
        to = CaseState(to)
        if to not in CASE_ALLOWED[case.state]:
            raise TransitionNotAllowed(case.state, to)
        before = case.state
        case.state, case.state_changed_at = to, timezone.now()
        for name, value in changes.items():
            setattr(case, name, value)
        case.save()
        actor_name, _role = audit.describe_actor(request, actor)
        CaseTransition.objects.create(
            case=case, from_state=before, to_state=to, actor=actor_name, reason=reason[:500]
        )
        audit.record(
            "industry.case.transition",
            request=request,
            actor=actor,
            obj=case,
            detail={"from": before, "to": str(to), "reason": reason[:200]},
        )
    return case


def queue(state: str = CaseState.QUEUED, *, home: bool = True):
    """Cases in ``state`` in risk order, ties oldest first; ``home`` False lists those that concern
    only other countries (for forwarding)."""
    return (
        Case.objects.filter(state=state, concerns_home=home)
        .select_related("report")
        .order_by("-risk", "opened_at", "pk")
    )


def seen(case: Case, user, *, request=None) -> None:
    """Record the first time someone who triages opened the case (the time-to-first-view figure)."""
    if case.first_viewed_at is None and user.has_perm("industry.triage_reports"):
        with transaction.atomic():
            updated = Case.objects.filter(pk=case.pk, first_viewed_at__isnull=True).update(
                first_viewed_at=timezone.now(), first_viewed_by=user
            )
            if updated:
                audit.record("industry.case.first_view", request=request, actor=user, obj=case)


def mark_outcome(case_id: int, user, outcome: str, note: str = "", *, request=None) -> Case:
    _require(user, "industry.mark_outcome")
    if outcome not in Outcome.values:
        raise CaseError("choose an outcome")
    return transition(
        case_id,
        CaseState.CLOSED,
        request=request,
        actor=user,
        reason=f"outcome: {Outcome(outcome).label}",
        outcome=outcome,
        outcome_note=note[:2000],
        outcome_by=user,
        outcome_at=timezone.now(),
    )


def referral_dir() -> Path:
    return Path(settings.REFERRAL_DIR or Path(settings.VAR_DIR) / "referrals")


def export_referral(case_id: int, user, *, recipient=None, request=None) -> tuple[str, bytes]:
    """Write the case as a signed referral package (openmnr.core.referral's format) and return its
    file name and bytes. Signals, the report document and kept files go in only encrypted to a
    law-enforcement recipient's key (the directory of the takedown app), as for hotline referrals."""
    from openmnr.takedown import services as takedown

    _require(user, "industry.export_referral")
    case = Case.objects.select_related("report").filter(pk=case_id).first()
    if case is None:
        raise CaseError(f"there is no industry case {case_id}")
    try:
        signing_key = takedown.referral_signing_key()
        recipient_key = (
            takedown.parse_recipient_key(recipient.recipient_key)
            if recipient and recipient.recipient_key
            else None
        )
    except core_referral.KeyFileError as exc:
        raise CaseError(str(exc)) from None
    report, files = case.report, list(case.report.files.all())
    facts = triage.facts_of(report)
    now = timezone.now()
    package = core_referral.Referral(
        case={
            "reference": f"IR-{report.pk}",
            "id": case.pk,
            "kind": "industry report",
            "operator": settings.TAKEDOWN_OPERATOR_NAME,
            "provider": report.provider_name,
            "source": report.source,
            "external_id": report.external_id,
            "incident": annotations.incident_label(report.incident_type),
            "escalated": bool(report.escalate),
            "countries": case.countries,
            "risk_reasons": case.reasons,
            "new_files": case.new_files,
            "known_files": case.known_files,
        },
        urls=list(facts.urls),
        classifications=[
            {
                "file_id": f.file_id,
                "media_type": f.media_type,
                "size": f.size,
                "known_material": f.matched,
                "assessment": f.assessment,
                "provider_classification": f.classification,
                "flags": f.flags,
            }
            for f in files
        ],
        signals=[
            {"signal_type": name, "value": getattr(f, name), "file_id": f.file_id}
            for f in files
            for name in ("md5", "sha256", "pdq")
            if getattr(f, name)
        ]
        if recipient_key
        else [],
        timestamps={
            "opened_at": report.opened_at.isoformat(),
            "finished_at": report.finished_at.isoformat() if report.finished_at else "",
            "referred_at": now.isoformat(),
        },
    )
    items = []
    if recipient_key is not None:
        items.append(core_referral.EvidenceItem("report.xml", report.xml.encode(), "application/xml"))
        if settings.REFERRAL_INCLUDE_EVIDENCE:
            items += _kept(files)
    folder = referral_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"industry-report-{report.pk}-{secrets.token_hex(6)}.zip"
    path = folder / name
    core_referral.write_referral(path, package, signing_key, items, recipient_key, created_at=now)
    data = path.read_bytes()
    try:
        with transaction.atomic():
            detail = {
                "file": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "encrypted": recipient_key is not None,
                "recipient": getattr(recipient, "pk", None),
            }
            if case.state == CaseState.QUEUED:
                transition(
                    case.pk,
                    CaseState.REFERRED,
                    request=request,
                    actor=user,
                    reason="referral package exported",
                )
            audit.record("industry.case.export", request=request, actor=user, obj=case, detail=detail)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, data


def _kept(files) -> list:
    store = evidence.reader()
    if store is None:
        return []
    items = []
    for f in files:
        if f.evidence_id:
            extension = (
                {"photo": ".img", "video": ".video"}.get(f.media_type)
                or mimetypes.guess_extension("")
                or ".bin"
            )
            items.append(
                core_referral.EvidenceItem(f"file-{f.file_id}{extension}", store.get(f.evidence_id, f.sha256))
            )
    return items
