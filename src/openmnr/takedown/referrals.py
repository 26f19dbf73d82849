"""Law-enforcement referrals: one signed package per case, made with the core's `write_referral`.

A senior analyst sends it (permission plus a fresh second factor, checked by the view) to a
law-enforcement entry of the directory. The package holds the case, its URLs, the latest hosting
trace, the classifications and the timestamps, signed with the hotline's Ed25519 key. The case's
signals (hashes) and, where the operator allows it (OPENMNR_REFERRAL_INCLUDE_EVIDENCE=1) and the
hotline keeps evidence, the media themselves are added only encrypted to the recipient's X25519
key: without a key on the entry the package carries neither.

The recipient is told by e-mail that a package is ready (the message carries no content); the
accounts listed on the entry download it after signing in with a fresh second factor. Sending
and every download are audited.
"""

import hashlib
import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core import referral as core
from openmnr.hotline import services as hotline

from . import keys, notices
from .delivery import deliver
from .errors import ReferralNotFound, ReferralRefused
from .models import DirectoryEntry, EntryKind, EventKind, NoticeKind, Referral, TakedownCase
from .models import Event as TimelineEvent
from .services import keep_notice, mark_actioned

SIGNAL_FIELDS = ("pdq", "md5", "sha256")


def referral_dir() -> Path:
    return Path(settings.REFERRAL_DIR or Path(settings.VAR_DIR) / "referrals")


def recipients():
    """The law-enforcement entries a referral can be addressed to."""
    return DirectoryEntry.objects.filter(kind=EntryKind.LAW_ENFORCEMENT, active=True)


def send(case_id: int, user, *, recipient_id: int, request=None, deliver=deliver) -> Referral:
    """Write, sign and record the referral of one case, then tell the recipient it is ready
    (through `deliver`; the demo sends nothing). Raises ReferralRefused (already sent, no
    takedown, unknown recipient, no signing key)."""
    if not user.has_perm("takedown.send_referral"):
        raise ReferralRefused("only a senior analyst sends referrals")
    takedown = TakedownCase.objects.select_related("case").filter(pk=case_id).first()
    if takedown is None:
        raise ReferralRefused(f"case {case_id} has no takedown")
    if Referral.objects.filter(takedown=takedown).exists():
        raise ReferralRefused(f"the referral of case {case_id} was already sent")
    recipient = recipients().filter(pk=recipient_id).first()
    if recipient is None:
        raise ReferralRefused("choose a law-enforcement recipient from the directory")
    try:
        signing_key = keys.signing_key()
        recipient_key = keys.parse_recipient_key(recipient.recipient_key) if recipient.recipient_key else None
    except core.KeyFileError as exc:
        raise ReferralRefused(str(exc)) from None

    now = timezone.now()
    written = write_package(takedown.case, takedown, now, signing_key, recipient_key, name="referral-case")
    path, evidence = written.path, written.evidence_items
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                takedown=takedown, case_id=takedown.pk, recipient=recipient, created_by=user, **written.fields
            )
            TimelineEvent.objects.create(
                takedown=takedown,
                at=now,
                kind=EventKind.REFERRAL,
                text=f"referral sent to {recipient.name} by {user.get_username()}"
                + (f", {evidence} evidence item(s) encrypted" if evidence else ""),
            )
            audit.record(
                "takedown.referral.send",
                request=request,
                actor=user,
                obj=referral,
                detail={
                    "case": case_id,
                    "recipient": recipient.pk,
                    "encrypted": referral.encrypted,
                    "evidence_items": evidence,
                },
            )
            mark_actioned(takedown, "referred to law enforcement")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    _tell_recipient(takedown, referral, now, deliver)
    return referral


@dataclass(frozen=True)
class WrittenPackage:
    """A package written under `referral_dir`, and the `Referral` columns that describe it."""

    path: Path
    fields: dict

    @property
    def evidence_items(self) -> int:
        return self.fields["evidence_items"]


def write_package(case, takedown, now, signing_key, recipient_key, *, name: str) -> WrittenPackage:
    """Write the signed package of ``case`` (and its ``takedown``, if any) under `referral_dir`:
    the one way both a takedown's referral and a held case's referral are written. Signals and,
    where the operator allows it, evidence go in only encrypted to ``recipient_key``; without
    one the package carries neither. The caller records the `Referral` row with ``fields`` and
    removes ``path`` if that fails, so no file outlives a refused row."""
    encrypted = recipient_key is not None
    items = list(case.items.all())
    package = package_of(case, takedown, items, now, with_signals=encrypted)
    evidence = _evidence(case.pk) if encrypted and settings.REFERRAL_INCLUDE_EVIDENCE else []
    folder = referral_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    file_name = f"{name}-{case.pk}-{secrets.token_hex(6)}.zip"
    path = folder / file_name
    core.write_referral(path, package, signing_key, evidence, recipient_key, created_at=now)
    data = path.read_bytes()
    return WrittenPackage(
        path,
        {
            "file_name": file_name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "encrypted": encrypted,
            "evidence_items": len(evidence),
            "signals": len(package.signals),
            "created_at": now,
        },
    )


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def package_of(case, takedown: TakedownCase | None, items, now, *, with_signals: bool) -> core.Referral:
    """The package of hotline case `case`: with its takedown's trace and timestamps when it has
    one, without (a case held for the police has no takedown yet) otherwise."""
    latest = takedown.traces.first() if takedown is not None else None
    timestamps = {
        "reported_at": _iso(case.opened_at),
        "assessed_at": _iso(case.assessed_at),
        "held_for_police_at": _iso(case.held_at),
        "first_notice_at": _iso(takedown.first_notice_at) if takedown else None,
        "acknowledged_at": _iso(takedown.acknowledged_at) if takedown else None,
        "removed_at": _iso(takedown.removed_at) if takedown else None,
        "referred_at": _iso(now),
    }
    signals = []
    if with_signals:
        for item in items:
            for name in SIGNAL_FIELDS:
                value = getattr(item, name)
                if value:
                    signals.append({"signal_type": name, "value": value, "item": item.position})
    return core.Referral(
        case={
            "reference": f"{settings.TAKEDOWN_REFERENCE_PREFIX}-{case.pk}",
            "id": case.pk,
            "operator": settings.TAKEDOWN_OPERATOR_NAME,
            "assessment": case.assessment,
            "category": case.category,
            "age_group": case.age_group,
            "site_type": case.site_type,
            "commerciality": case.commerciality,
            "payment_methods": case.payment_methods,
            "known_material": case.has_known_match,
            "reporters": case.reporter_count,
            "held_for_police_at": _iso(case.held_at),
        },
        urls=notices.urls_of(case),
        hosting_trace=latest.data if latest is not None else None,
        classifications=[
            {
                "item": item.position,
                "url": item.url,
                "media_type": item.media_type,
                "assessment": item.assessment,
                "category": item.category,
                "age_group": item.age_group,
                # Vocabulary codes (docs/hotline.md); "" or null: not recorded.
                "gender": item.gender,
                "content_type": item.content_type,
                "flags": item.flags,
                "known_material": item.matched,
                "assessed_automatically": item.auto_assessed,
            }
            for item in items
        ],
        signals=signals,
        timestamps={name: value for name, value in timestamps.items() if value is not None},
    )


def _evidence(case_id: int) -> list[core.EvidenceItem]:
    return [
        core.EvidenceItem(
            name=f"item-{kept.position:03d}{mimetypes.guess_extension(kept.media_type or '') or '.bin'}",
            data=kept.data,
            media_type=kept.media_type or "application/octet-stream",
        )
        for kept in hotline.kept_evidence(case_id)
    ]


def _tell_recipient(takedown: TakedownCase, referral: Referral, now, deliver) -> None:
    """E-mail the recipient that a package is ready; a failure is on the timeline, and the package
    stays listed for the recipient's accounts either way."""
    entry = referral.recipient
    action = {"to": {"name": entry.name, "emails": entry.email_list, "country": entry.country or None}}
    reference = notices.reference(takedown)
    message, language = notices.compose(
        takedown,
        action,
        kind=NoticeKind.REFERRAL,
        notice_reference=reference,
        sent_at=now,
        entry=entry,
        extra={
            "case_id": takedown.pk,
            "encrypted": referral.encrypted,
            "download_url": settings.TAKEDOWN_PUBLIC_URL + reverse("takedown:referrals"),
        },
    )
    delivery = deliver(message)
    with transaction.atomic():
        if delivery.delivered:
            keep_notice(
                takedown,
                NoticeKind.REFERRAL,
                message,
                language=language,
                reference=reference,
                at=now,
                recipient=entry.name,
            )
        else:
            TimelineEvent.objects.create(
                takedown=takedown,
                at=now,
                kind=EventKind.NOTICE_FAILED,
                text=f"referral message to {entry.name} not delivered: {delivery.error}"[:500],
            )


def visible_to(user):
    """The referrals `user` may see: all for those who send them, else those addressed to a unit
    the user belongs to."""
    referrals = Referral.objects.select_related("recipient", "takedown", "created_by")
    if user.has_perm("takedown.send_referral"):
        return referrals
    if user.has_perm("takedown.receive_referrals"):
        return referrals.filter(recipient__members=user)
    return referrals.none()


def open_for_download(referral_id: int, user, *, request=None) -> tuple[Referral, bytes]:
    """The package's bytes, checked against the digest recorded when it was written; audited.
    Raises ReferralNotFound for a referral the user may not see."""
    referral = visible_to(user).filter(pk=referral_id).first()
    if referral is None:
        raise ReferralNotFound(f"no referral {referral_id} is addressed to you")
    data = (referral_dir() / referral.file_name).read_bytes()
    if hashlib.sha256(data).hexdigest() != referral.sha256:
        raise ReferralNotFound(f"the package of referral {referral_id} was changed on disk; ask the hotline")
    audit.record(
        "takedown.referral.download",
        request=request,
        actor=user,
        obj=referral,
        detail={"case": referral.case_id},
    )
    return referral, data
