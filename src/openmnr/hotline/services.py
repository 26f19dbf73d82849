"""What other apps call. The takedown app above all: it traces the hosting of illegal cases, sends
notices and referrals, and moves the cases on.

    transition(case_id, to, *, actor=None, request=None, reason="")  -> CaseSummary
    cases_to_act_on()                                                -> [CaseSummary], oldest first
    case_summary(case_id)                                            -> CaseSummary
    new_tracking_code(), display_tracking_code(code), normalise_tracking_code(text)
                                       the public tracking codes (codes.py), for other public pages
    items_of(case_id)                                                -> [ItemSummary], in page order
    file_partner_report(url, *, partner_reference, description="")   -> CaseSummary

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

from . import cases, codes
from .classification import ILLEGAL
from .errors import CaseNotFound, HotlineError, InvalidReport, InvalidTrackingCode, TransitionNotAllowed
from .intake import ReportInput, receive_network
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
    age_group: str = ""
    assessed_at: datetime | None = None


@dataclass(frozen=True)
class ItemSummary:
    url: str
    media_type: str
    assessment: str
    category: str
    age_group: str
    signals: dict  # signal type -> value, for the partners a case is forwarded to; never logged


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        case.pk,
        case.url,
        case.url_sha256,
        case.state,
        case.assessment,
        case.category,
        case.opened_at,
        case.reporter_count,
        case.is_demo,
        case.age_group,
        case.assessed_at,
    )


def transition(case_id: int, to: str, *, actor=None, request=None, reason: str = "") -> CaseSummary:
    """Move a case along its state machine (see states.py); audited."""
    return _summary(cases.transition(case_id, to, actor=actor, request=request, reason=reason))


def case_summary(case_id: int) -> CaseSummary:
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"there is no case {case_id}")
    return _summary(case)


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


def cases_to_act_on() -> list[CaseSummary]:
    """Assessed cases whose outcome is illegal: the ones that need a notice or a referral."""
    found = Case.objects.filter(state=State.ASSESSED, assessment__in=ILLEGAL).order_by("assessed_at", "pk")
    return [_summary(case) for case in found]


def new_tracking_code() -> str:
    """A fresh code (codes.py: 95 random bits, a check character), without separators."""
    return codes.new_code()


def display_tracking_code(code: str) -> str:
    return codes.display(code)


def normalise_tracking_code(text: str) -> str:
    """The code ``text`` spells, or ``InvalidTrackingCode`` saying what is wrong with it."""
    return codes.normalise(text)


__all__ = [
    "CaseNotFound",
    "CaseSummary",
    "HotlineError",
    "InvalidReport",
    "InvalidTrackingCode",
    "ItemSummary",
    "State",
    "TransitionNotAllowed",
    "case_summary",
    "cases_to_act_on",
    "display_tracking_code",
    "file_partner_report",
    "items_of",
    "new_tracking_code",
    "normalise_tracking_code",
    "transition",
]
