"""What other apps call: the hotline's one interface (the import contracts in `make lint` let no
other app import any other hotline module). The takedown app above all: it traces the hosting of
illegal cases, sends notices and referrals, and moves the cases on; the hotline exchange and
industry reports will come in through here too.

    receive_public(ReportInput(urls=[...]), is_demo=False)           -> Submission (see intake.py)
    transition(case_id, to, *, actor=None, request=None, reason="")  -> CaseSummary
    advance(case_id, to, *, when_in, reason)                         -> moved?  (no error if not)
    cases_to_act_on()                                                -> [CaseSummary], oldest first
    held_cases()                 -> [CaseSummary] held for the police: their referral goes first
    hold_reminders_due() / hold_reminder_sent(case_id, review_at, detail=...)
                                 kept holds whose review date came; record (once) that it was sent
    case_summary(case_id)                                            -> CaseSummary
    case_for_referral(case_id)       -> the Case itself, read-only, for a held case's referral package
    kept_evidence(case_id)                                           -> [KeptMedia] (decrypted)
    demo_case(url=None) / file_demo_report(url, description)         -> CaseSummary (demo data)
    items_of(case_id)                                                -> [ItemSummary], in page order
    file_partner_report(url, *, partner_reference, description="")   -> CaseSummary
    new_tracking_code(), display_tracking_code(code), normalise_tracking_code(text)
                                       the public tracking codes (codes.py), for other public pages
    allow_public(request, purpose, ...)  the public pages' rate limits, without keeping addresses
    blurred_thumbnail(data)              a blurred, greyed thumbnail for the protective viewer
    matched_entries({signal type: value}) -> {bank entry id} matched as triage matches (the
                                           takedown availability check's local-feature test)

`file_partner_report` is for reports that arrive through a hotline network (ICCAM, OpenMNR
federation) rather than a partner's API key: the URL opens or joins a case and is triaged like any
report.

States are `State` values (states.py): the takedown app moves an assessed case to `actioned` when a
notice or referral went out, and an actioned case to `closed` when the content is gone. A move the
state machine does not allow raises `TransitionNotAllowed`; an unknown case `CaseNotFound`; both
are `HotlineError`. Every move is audited in the transaction that makes it.

The case page includes the template `takedown/case_hosting.html` when the takedown app provides one
(context: `case`, a hotline Case), in place of its placeholder in the "Hosting" section.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from openmnr.audit import services as audit

from . import cases, codes, evidence, throttle
from .classification import ILLEGAL, Assessment
from .errors import CaseNotFound, HotlineError, InvalidReport, InvalidTrackingCode, TransitionNotAllowed
from .imaging import blurred_thumbnail
from .intake import ReportInput, receive_network, receive_public
from .matching import matched_entries
from .models import Case
from .states import State


@dataclass(frozen=True)
class CaseSummary:
    id: int
    url: str
    url_sha256: str
    state: str
    assessment: str
    category: str
    opened_at: datetime
    reporter_count: int
    is_demo: bool
    assessed_at: datetime | None = None
    has_known_match: bool = False
    age_group: str = ""
    released_at: datetime | None = None  # released from a law-enforcement hold: takedown starts here
    site_type: str = ""  # vocabulary codes; "" (payment methods None): not recorded
    commerciality: str = ""
    payment_methods: tuple[str, ...] | None = None
    held_at: datetime | None = None  # held for the police (holds.py); the referral goes first
    hold_reason: str = ""
    hold_review_at: datetime | None = None  # a kept hold: when law enforcement looks at it again
    hold_kept_reason: str = ""


@dataclass(frozen=True)
class ItemSummary:
    url: str
    media_type: str
    assessment: str
    category: str
    age_group: str
    signals: dict  # signal type -> value, for the partners a case is forwarded to; never logged
    gender: str = ""  # vocabulary codes; "" (flags None): not recorded
    content_type: str = ""
    flags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class KeptMedia:
    """One media item's kept bytes (decrypted), for a referral package."""

    position: int
    media_type: str
    data: bytes


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        id=case.pk,
        url=case.url,
        url_sha256=case.url_sha256,
        state=case.state,
        assessment=case.assessment,
        category=case.category,
        opened_at=case.opened_at,
        reporter_count=case.reporter_count,
        is_demo=case.is_demo,
        assessed_at=case.assessed_at,
        has_known_match=case.has_known_match,
        age_group=case.age_group,
        released_at=case.released_at,
        site_type=case.site_type,
        commerciality=case.commerciality,
        payment_methods=tuple(case.payment_methods) if case.payment_methods is not None else None,
        held_at=case.held_at,
        hold_reason=case.hold_reason,
        hold_review_at=case.hold_review_at,
        hold_kept_reason=case.hold_kept_reason,
    )


def transition(case_id: int, to: str, *, actor=None, request=None, reason: str = "") -> CaseSummary:
    """Move a case along its state machine (see states.py); audited."""
    return _summary(cases.transition(case_id, to, actor=actor, request=request, reason=reason))


def advance(case_id: int, to: str, *, when_in, reason: str = "") -> bool:
    """Move the case to `to` if, under its row lock, it is in one of the states `when_in`; False
    (and nothing changed) when it is not, say because it was closed meanwhile. Audited like
    `transition`; joins the caller's transaction."""
    with transaction.atomic():
        case = cases.locked(case_id)
        if case.state not in when_in:
            return False
        cases.move(case, to, reason=reason)
    return True


def case_summary(case_id: int) -> CaseSummary:
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"there is no case {case_id}")
    return _summary(case)


def case_for_referral(case_id: int) -> Case:
    """The case row itself, for the referral package of a case held for the police, which reads
    the case's and its items' own fields (takedown/referrals.py `package_of`): the same object a
    takedown's referral reaches through `TakedownCase.case`. Read-only by contract: every change
    of a case goes through this module's functions, so that it is audited. Raises CaseNotFound."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"there is no case {case_id}")
    return case


def cases_to_act_on() -> list[CaseSummary]:
    """Assessed cases whose outcome is illegal: the ones that need a notice or a referral."""
    found = Case.objects.filter(state=State.ASSESSED, assessment__in=ILLEGAL).order_by("assessed_at", "pk")
    return [_summary(case) for case in found]


def held_cases() -> list[CaseSummary]:
    """Cases held for the police now (state `held`), oldest hold first: the takedown app sends
    their referral package first (referrals.refer_held)."""
    return [_summary(case) for case in Case.objects.filter(state=State.HELD).order_by("held_at", "pk")]


def hold_reminders_due() -> list[CaseSummary]:
    """Kept holds whose review date came (holds.due marked them) and whose reminder has not gone
    out for that date yet."""
    found = Case.objects.filter(
        state=State.HELD, hold_review_at__isnull=False, hold_reminded_at__gte=F("hold_review_at")
    ).exclude(hold_reminder_sent_for=F("hold_review_at"))
    return [_summary(case) for case in found.order_by("hold_review_at", "pk")]


def hold_reminder_sent(case_id: int, review_at: datetime, *, detail: dict) -> bool:
    """Record that the reminder for the review date `review_at` went out; False (nothing written)
    when it was recorded before or the hold changed meanwhile. Audited in the same transaction, so
    that a reminder goes out once per review date however many workers send them."""
    with transaction.atomic():
        case = cases.locked(case_id)
        if (
            case.state != State.HELD
            or case.hold_review_at != review_at
            or case.hold_reminder_sent_for == review_at
        ):
            return False
        case.hold_reminder_sent_for = review_at
        case.save(update_fields=["hold_reminder_sent_for"])
        audit.record(
            "hotline.hold.reminder_sent", obj=case, detail={"review_at": review_at.isoformat(), **detail}
        )
    return True


def items_of(case_id: int) -> list[ItemSummary]:
    """The media found at a case's URL, with their classification and signals."""
    return [
        ItemSummary(
            item.url,
            item.media_type,
            item.assessment,
            item.category,
            item.age_group,
            {name: getattr(item, name) for name in ("pdq", "md5", "sha256", "vpdq") if getattr(item, name)},
            gender=item.gender,
            content_type=item.content_type,
            flags=tuple(item.flags) if item.flags is not None else None,
        )
        for item in Case.objects.get(pk=case_id).items.all()
    ]


def file_partner_report(url: str, *, partner_reference: str, description: str = "") -> CaseSummary:
    """File one URL a partner hotline reported through a network, inside the caller's transaction if
    there is one; the case it opened or joined. Raises `InvalidReport` for a URL that cannot be
    checked."""
    submission = receive_network(
        ReportInput(urls=[url], description=description[:5000], partner_reference=partner_reference[:200])
    )
    return _summary(submission.urls.get().case)


def new_tracking_code() -> str:
    """A fresh code (codes.py: 95 random bits, a check character), without separators."""
    return codes.new_code()


def display_tracking_code(code: str) -> str:
    return codes.display(code)


def normalise_tracking_code(text: str) -> str:
    """The code ``text`` spells, or ``InvalidTrackingCode`` saying what is wrong with it."""
    return codes.normalise(text)


def allow_public(request, purpose: str, **limits) -> bool:
    """Count one request of a public page (see throttle.py: the client's address is never kept);
    False once the limit of `purpose` is reached."""
    return throttle.allow(request, purpose, **limits)


def kept_evidence(case_id: int) -> list[KeptMedia]:
    """The media of the case that the hotline kept, decrypted; empty when it keeps signals only."""
    store = evidence.reader()
    if store is None:
        return []
    items = Case.objects.get(pk=case_id).items.exclude(evidence_id="")
    return [
        KeptMedia(item.position, item.media_type, store.get(item.evidence_id, item.sha256)) for item in items
    ]


def demo_case(url: str | None = None) -> CaseSummary | None:
    """For other apps' demo data: the demo case reported for `url`, or (no url) the first demo case
    assessed illegal that is still open or was closed after action."""
    found = Case.objects.filter(is_demo=True)
    if url is not None:
        found = found.filter(url=url)
    else:
        found = found.filter(assessment__in=ILLEGAL, state__in=[State.ASSESSED, State.ACTIONED, State.CLOSED])
    case = found.order_by("pk").first()
    return _summary(case) if case is not None else None


def file_demo_report(url: str, description: str) -> CaseSummary:
    """For other apps' demo data: a demo report of `url`, triaged and assessed as known material
    (baseline, the first category) through the state machine, as triage would for a page whose
    every item matched."""
    case = receive_public(ReportInput(urls=[url], description=description), is_demo=True).urls.get().case
    cases.transition(case.pk, State.TRIAGED, reason="demo: triage", has_known_match=True)
    return _summary(
        cases.transition(
            case.pk,
            State.ASSESSED,
            reason="demo: known material",
            assessment=Assessment.BASELINE,
            category=settings.HOTLINE_CATEGORIES[0].partition(":")[0],
            auto_assessed=True,
            assessed_at=timezone.now(),
        )
    )


def backdate_demo_case(case_id: int, *, opened_at: datetime, assessed_at: datetime) -> None:
    """Move a demo case's report and assessment into the past, so a demo replayed on an earlier
    clock reads in order. Only demo cases are touched."""
    Case.objects.filter(pk=case_id, is_demo=True).update(opened_at=opened_at, assessed_at=assessed_at)


__all__ = [
    "Assessment",
    "CaseNotFound",
    "CaseSummary",
    "HotlineError",
    "ILLEGAL",
    "InvalidReport",
    "InvalidTrackingCode",
    "ItemSummary",
    "KeptMedia",
    "ReportInput",
    "State",
    "TransitionNotAllowed",
    "advance",
    "allow_public",
    "backdate_demo_case",
    "blurred_thumbnail",
    "case_summary",
    "cases_to_act_on",
    "demo_case",
    "display_tracking_code",
    "file_demo_report",
    "file_partner_report",
    "held_cases",
    "hold_reminder_sent",
    "hold_reminders_due",
    "items_of",
    "kept_evidence",
    "matched_entries",
    "new_tracking_code",
    "normalise_tracking_code",
    "receive_public",
    "transition",
]
