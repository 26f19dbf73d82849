"""Composing the messages that leave the hotline: notices (and their escalation) to hosts, CDNs and
registrars, forwards to partner hotlines, and "a referral is ready" to law enforcement.

Each message is rendered from a plain-text template in the recipient's language
(templates/takedown/messages/<kind>.<en|pt>.txt: the first line is the subject; hold_referrals.py
writes the messages about cases held for the police the same way). A message names the URLs and
carries the operator's legal text and a unique reference; it never carries media or hashes. The recipient acknowledges through a link holding a signed, expiring token (no account).
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse

from openmnr.hotline.services import Assessment

from .delivery import Message
from .errors import AcknowledgementExpired, AcknowledgementInvalid
from .models import DirectoryEntry, Language, NoticeKind, Policy

# Where a host's notice is written in Portuguese when no directory entry says otherwise.
PORTUGUESE_SPEAKING = frozenset({"PT", "BR", "AO", "MZ", "CV", "GW", "ST", "TL"})
ACK_SALT = "openmnr.takedown.acknowledge"
MAX_URLS = 50

_TEMPLATE = {
    NoticeKind.HOST: "notice",
    NoticeKind.CDN: "notice",
    NoticeKind.REGISTRAR: "notice",
    NoticeKind.ESCALATION: "notice",
    NoticeKind.FORWARD: "forward",
    NoticeKind.REFERRAL: "referral",
}

_ASSESSMENT = {
    Language.ENGLISH: {
        Assessment.BASELINE: "child sexual abuse material, illegal internationally (INHOPE baseline)",
        Assessment.NATIONALLY_ILLEGAL: "child sexual abuse material, illegal under the law of {country}",
    },
    Language.PORTUGUESE: {
        Assessment.BASELINE: "material de abuso sexual de crianças, ilegal internacionalmente (referência INHOPE)",
        Assessment.NATIONALLY_ILLEGAL: "material de abuso sexual de crianças, ilegal segundo a lei de {country}",
    },
}


def reference(takedown, offset: int = 0) -> str:
    """The next free reference of this case's messages: PREFIX-<case>-<sequence>."""
    sequence = takedown.notices.count() + 1 + offset
    return f"{settings.TAKEDOWN_REFERENCE_PREFIX}-{takedown.pk}-{sequence:02d}"


def ack_token(notice_reference: str) -> str:
    return signing.dumps(notice_reference, salt=ACK_SALT)


def reference_from_token(token: str) -> str:
    """The reference a token was issued for. Raises AcknowledgementExpired or AcknowledgementInvalid."""
    try:
        return signing.loads(token, salt=ACK_SALT, max_age=timedelta(days=settings.TAKEDOWN_ACK_DAYS))
    except signing.SignatureExpired:
        raise AcknowledgementExpired(
            f"this acknowledgement link is older than {settings.TAKEDOWN_ACK_DAYS} days"
        ) from None
    except signing.BadSignature:
        raise AcknowledgementInvalid("this acknowledgement link is not one the hotline issued") from None


def ack_url(notice_reference: str) -> str:
    return settings.TAKEDOWN_PUBLIC_URL + reverse("takedown:acknowledge", args=[ack_token(notice_reference)])


def language_for(country: str | None, entry: DirectoryEntry | None) -> str:
    if entry is not None:
        return entry.language
    return Language.PORTUGUESE if country in PORTUGUESE_SPEAKING else Language.ENGLISH


def describe_assessment(assessment: str, language: str) -> str:
    """The case's outcome as the message says it, in the recipient's language."""
    text = _ASSESSMENT[language].get(assessment, assessment)
    return text.format(country=settings.TAKEDOWN_HOME_COUNTRY)


def urls_of(case) -> list[str]:
    """The case's URL and the media URLs found there: what the recipient must act on."""
    urls = [case.url]
    for url in case.items.values_list("url", flat=True):
        if url not in urls:
            urls.append(url)
    return urls[:MAX_URLS]


def compose(
    takedown,
    action: dict,
    *,
    kind: str,
    notice_reference: str,
    sent_at,
    entry: DirectoryEntry | None = None,
    number: int = 1,
    trace: dict | None = None,
    extra: dict | None = None,
) -> tuple[Message, str]:
    """(the message, its language) for one recipient of `action`."""
    case = takedown.case
    to = action["to"]
    language = language_for(to.get("country") or takedown.hosting_country or None, entry)
    policy = Policy.current()
    legal_text = policy.legal_text_pt if language == Language.PORTUGUESE else policy.legal_text_en
    urls = urls_of(case)
    context = {
        "operator": settings.TAKEDOWN_OPERATOR_NAME,
        "reference": notice_reference,
        "recipient": to["name"],
        "kind": kind,
        "number": number,
        "escalation": kind == NoticeKind.ESCALATION,
        "assessment": describe_assessment(case.assessment, language),
        "urls": urls,
        "sent_at": sent_at,
        "first_notice_at": takedown.first_notice_at,
        "ack_url": ack_url(notice_reference),
        "ack_days": settings.TAKEDOWN_ACK_DAYS,
        "legal_text": legal_text.strip(),
        "trace": trace or {},
        **(extra or {}),
    }
    text = render_to_string(f"takedown/messages/{_TEMPLATE[kind]}.{language}.txt", context)
    subject, _newline, body = text.strip().partition("\n")
    body = body.strip() + "\n"
    payload = {
        "reference": notice_reference,
        "kind": kind,
        "number": number,
        "operator": settings.TAKEDOWN_OPERATOR_NAME,
        "language": language,
        "urls": urls,
        "subject": subject.strip(),
        "text": body,
        "acknowledge_url": context["ack_url"],
        "sent_at": sent_at.isoformat(),
    }
    message = Message(
        recipient=to["name"],
        subject=subject.strip(),
        body=body,
        emails=tuple(to["emails"]),
        api_url=entry.api_url if entry is not None else "",
        secret=entry.webhook_secret if entry is not None else "",
        payload=payload,
    )
    return message, language
