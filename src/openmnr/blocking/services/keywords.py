"""The keyword list: terms proposed by a senior analyst, active once another confirmed them (four
eyes, as for confirmed CSAM in the banks), disabled for good with a reason, exported signed.

Each step checks, locks and audits in one transaction; a refusal is audited too
(``audited_refusal``). The audit record of a step names the keyword's id, language and category,
never the term: the log is read by more people than the list.
"""

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.urllist import listformat

from .. import keys
from ..errors import (
    DuplicateKeyword,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    WrongState,
    audited_refusal,
)
from ..models import Keyword, KeywordConfirmation

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
EXPORT_FORMAT = "openmnr-keywords/1"

__all__ = ["InvalidInput", "confirm", "disable", "export", "listed", "propose"]


def confirmations_required() -> int:
    return settings.BLOCKING_KEYWORD_CONFIRMATIONS


def _require(by, permission: str = "blocking.curate_keywords") -> None:
    if by is None or not by.has_perm(permission):
        raise NotAllowed("only senior analysts curate the keyword list")


def propose(*, term: str, language: str, category: str, by, request=None) -> Keyword:
    with audited_refusal("blocking.keyword_propose", by=by, request=request):
        _require(by)
        term = " ".join(term.split())
        if not 1 <= len(term) <= 200:
            raise InvalidInput("a term is 1 to 200 characters")
        if not _LANGUAGE.match(language.strip()):
            raise InvalidInput("the language is a BCP 47 tag such as en or pt-BR")
        if category not in Keyword.Category.values:
            raise InvalidInput(f"the category is one of {', '.join(Keyword.Category.values)}")
        try:
            with transaction.atomic():
                keyword = Keyword.objects.create(
                    term=term, language=language.strip(), category=category, proposed_by=by
                )
                if confirmations_required() == 0:
                    _activate(keyword)
                audit.record(
                    "blocking.keyword_propose",
                    request=request,
                    actor=by,
                    obj=keyword,
                    detail={"language": keyword.language, "category": category, "status": keyword.status},
                )
        except IntegrityError:
            raise DuplicateKeyword("this term is already on the list for that language") from None
        return keyword


def _activate(keyword: Keyword) -> None:
    keyword.status, keyword.activated_at = Keyword.Status.ACTIVE, timezone.now()
    keyword.save(update_fields=["status", "activated_at"])


def confirm(keyword_id: int, *, by, request=None) -> Keyword:
    """One confirmation by someone other than the proposer; active with the last one needed."""
    with audited_refusal("blocking.keyword_confirm", by=by, request=request), transaction.atomic():
        _require(by)
        keyword = Keyword.objects.select_for_update().filter(pk=keyword_id).first()
        if keyword is None:
            raise InvalidInput("there is no such keyword")
        if keyword.status != Keyword.Status.PENDING:
            raise WrongState("only a keyword awaiting confirmation can be confirmed")
        if keyword.proposed_by_id == by.pk:
            raise FourEyesViolation("nobody confirms their own proposal")
        try:
            with transaction.atomic():
                KeywordConfirmation.objects.create(keyword=keyword, confirmed_by=by)
        except IntegrityError:
            raise FourEyesViolation("you have already confirmed this keyword") from None
        count = keyword.confirmations.count()
        if count >= confirmations_required():
            _activate(keyword)
        audit.record(
            "blocking.keyword_confirm",
            request=request,
            actor=by,
            obj=keyword,
            detail={"confirmations": count, "required": confirmations_required(), "status": keyword.status},
        )
        return keyword


def disable(keyword_id: int, *, by, reason: str, request=None) -> Keyword:
    with audited_refusal("blocking.keyword_disable", by=by, request=request), transaction.atomic():
        _require(by)
        keyword = Keyword.objects.select_for_update().filter(pk=keyword_id).first()
        if keyword is None:
            raise InvalidInput("there is no such keyword")
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidInput("give a reason for disabling the keyword")
        if keyword.status == Keyword.Status.DISABLED:
            raise WrongState("the keyword is already disabled")
        keyword.status, keyword.disabled_at, keyword.disable_reason = (
            Keyword.Status.DISABLED,
            timezone.now(),
            reason[:500],
        )
        keyword.save(update_fields=["status", "disabled_at", "disable_reason"])
        audit.record(
            "blocking.keyword_disable",
            request=request,
            actor=by,
            obj=keyword,
            detail={"reason": reason[:500]},
        )
        return keyword


def listed(user):
    """Every keyword with its confirmation count, pending first, for the staff page."""
    if not user.has_perm("blocking.view_keywords"):
        raise NotAllowed("you may not see the keyword list")
    return Keyword.objects.annotate(confirmed=Count("confirmations")).order_by("status", "language", "term")


def export(*, request=None) -> dict:
    """The active keywords, signed with the list's key; audited as a download."""
    active = Keyword.objects.filter(status=Keyword.Status.ACTIVE).order_by("language", "category", "term")
    payload = {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now().isoformat(),
        "count": active.count(),
        "keywords": [{"term": k.term, "language": k.language, "category": k.category} for k in active],
    }
    document = listformat.sign(payload, keys.signing_key())
    audit.record(
        "blocking.keyword_download",
        request=request,
        object_type="blocking.keywords",
        detail={"count": payload["count"]},
    )
    return document
