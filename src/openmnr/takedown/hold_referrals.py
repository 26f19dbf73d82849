"""The police first: the referral package of a case held for the police, and the reminders of
kept holds that are due.

When a case is held for the police (hotline/holds.py: by an analyst or by a hold rule), no takedown
exists and no notice can reach the host. What must happen first is the referral: the worker's
clock (`clock_job`, right after the hotline's hold time rules) writes, for every active
law-enforcement entry of the directory, the signed package of the case (the `openmnr.core.referral`
format and the very `package_of` of a senior analyst's referral: URLs, every item's classification
with gender, content type and flags, the site, the timestamps including the hold's, and the
signals or evidence only encrypted to the entry's own key), records it as a `Referral` with
``held=True``, and tells the entry through the same `delivery.deliver` (e-mail, or the signed
webhook) with no content in the message, only the download address. The entry's members list and
download it on the referrals page, with a fresh second factor, audited as every referral download
is. A takedown referral's message is kept on the takedown timeline; a held case has no timeline
yet, so here each delivery is an audit event (``takedown.referral.told`` or ``.not_told``).

Why the clock and not the hold itself: the hold is written in the analyst's (or triage's)
transaction, and a package must be written and a mail server reached outside any transaction; the
hotline app also may not call the takedown app. Picking held cases up within a minute, as
`opening.open_assessed` picks up assessed ones, keeps both rules and loses nothing if a worker dies.

Each package is written once per (case, entry): the row's unique constraint decides between two
workers, and the loser deletes its file. A message that did not go out is tried again on each tick
until it does (``told_at``), so a mail server that is down delays it but loses nothing. Without a
signing key nothing is written (logged each tick until the operator adds one); without a
law-enforcement entry there is nobody to tell, and nothing is written.

Reminders: when a kept hold's review date comes (holds.due marks it), every entry is told; the
reminder counts as sent, once per review date, as soon as one entry received it
(`hotline.hold_reminder_sent`, under the case's row lock, audited with whom it reached). The
trade-off: an entry whose server was down at that tick is not told again for that date, rather
than telling the others twice; the reminder also stays in the held queue.

Both messages are in the entry's language (its `language`, English or Portuguese), from the
templates hold_referral.<en|pt>.txt and hold_reminder.<en|pt>.txt beside the notices': these are
messages to other organisations in the language they chose, not pages in the reader's browser
language, so they follow notices.py (one template per language) rather than the public pages'
gettext catalogues.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core import referral as core
from openmnr.hotline import services as hotline

from . import keys
from .delivery import Message, deliver
from .models import Referral
from .notices import describe_assessment
from .referrals import recipients, write_package

log = logging.getLogger(__name__)


def _message(entry, kind: str, context: dict) -> Message:
    """The message `kind` (hold_referral, hold_reminder) in the entry's language, from its template
    beside the notices' (notices.py): the first line is the subject."""
    text = render_to_string(
        f"takedown/messages/{kind}.{entry.language}.txt",
        {"operator": settings.TAKEDOWN_OPERATOR_NAME, "recipient": entry.name, **context},
    )
    subject, _newline, body = text.strip().partition("\n")
    return Message(
        recipient=entry.name,
        subject=subject.strip(),
        body=body.strip() + "\n",
        emails=tuple(entry.email_list),
        api_url=entry.api_url,
        secret=entry.webhook_secret,
        payload={
            "type": context["type"],
            "language": entry.language,
            **{k: v for k, v in context.items() if k in _PAYLOAD},
        },
    )


_PAYLOAD = ("case_id", "reference", "download_url", "review_at", "hold_reason", "kept_reason", "encrypted")


def _reference(case_id: int) -> str:
    return f"{settings.TAKEDOWN_REFERENCE_PREFIX}-{case_id}"


def refer_held(now=None, *, deliver=deliver) -> int:
    """Write and announce the referral of every held case to every law-enforcement entry that has
    none yet, then announce again the ones whose message did not go out; returns packages written."""
    now = now or timezone.now()
    written = 0
    held = hotline.held_cases()
    if not held:
        return 0
    entries = list(recipients())
    if entries:
        try:
            signing_key = keys.signing_key()
        except core.KeyFileError as exc:
            log.error("held cases cannot be referred: %s", exc)
            return 0
        written_before = Referral.objects.filter(held=True, case_id__in=[summary.id for summary in held])
        done = set(written_before.values_list("case_id", "recipient_id"))
        for summary in held:
            for entry in entries:
                if (summary.id, entry.pk) not in done and _write(summary.id, entry, signing_key, now):
                    written += 1
    _announce_untold(held, now, deliver)
    return written


def _write(case_id: int, entry, signing_key, now) -> bool:
    try:
        recipient_key = keys.parse_recipient_key(entry.recipient_key) if entry.recipient_key else None
    except core.KeyFileError as exc:
        log.error("the key of %s is unusable; held case %s not referred to it: %s", entry.name, case_id, exc)
        return False
    case = hotline.case_for_referral(case_id)
    written = write_package(case, None, now, signing_key, recipient_key, name="referral-held-case")
    path = written.path
    try:
        with transaction.atomic():
            referral = Referral.objects.create(case_id=case_id, held=True, recipient=entry, **written.fields)
            audit.record(
                "takedown.referral.hold",
                obj=referral,
                detail={"case": case_id, "recipient": entry.pk, "encrypted": referral.encrypted},
            )
    except IntegrityError:  # another worker wrote this one first
        path.unlink(missing_ok=True)
        return False
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return True


def _announce_untold(held, now, deliver) -> None:
    """Tell each entry of each held referral not yet told; the audit log holds who was told."""
    by_id = {summary.id: summary for summary in held}
    untold = Referral.objects.filter(held=True, told_at__isnull=True, case_id__in=list(by_id))
    for referral in untold.select_related("recipient"):
        summary, entry = by_id[referral.case_id], referral.recipient
        message = _message(
            entry,
            "hold_referral",
            {
                "type": "hold_referral",
                "case_id": referral.case_id,
                "reference": _reference(referral.case_id),
                "assessment": describe_assessment(summary.assessment, entry.language),
                "hold_reason": summary.hold_reason,
                "held_at": summary.held_at,
                "encrypted": referral.encrypted,
                "download_url": settings.TAKEDOWN_PUBLIC_URL + reverse("takedown:referrals"),
            },
        )
        delivery = deliver(message)
        with transaction.atomic():
            if delivery.delivered:
                Referral.objects.filter(pk=referral.pk).update(told_at=now)
            audit.record(
                "takedown.referral.told" if delivery.delivered else "takedown.referral.not_told",
                obj=referral,
                detail={"case": referral.case_id, "recipient": entry.pk, "channel": message.channel}
                | ({} if delivery.delivered else {"error": delivery.error}),
            )


def remind_due_holds(now=None, *, deliver=deliver) -> int:
    """Tell the law-enforcement entries of each kept hold whose review date came, once per date;
    returns how many reminders were recorded as sent."""
    now = now or timezone.now()
    entries = list(recipients())
    sent = 0
    for summary in hotline.hold_reminders_due():
        channels = []
        for entry in entries:
            message = _message(
                entry,
                "hold_reminder",
                {
                    "type": "hold_review_due",
                    "case_id": summary.id,
                    "reference": _reference(summary.id),
                    "review_at": summary.hold_review_at.isoformat(),
                    "kept_reason": summary.hold_kept_reason,
                    "held_at": summary.held_at,
                    "queue_url": settings.TAKEDOWN_PUBLIC_URL + reverse("hotline:holds"),
                },
            )
            delivery = deliver(message)
            if delivery.delivered:
                channels.append(f"{entry.name} ({message.channel})")
            else:
                log.warning(
                    "hold reminder for case %s to %s not delivered: %s",
                    summary.id,
                    entry.name,
                    delivery.error,
                )
        if channels and hotline.hold_reminder_sent(
            summary.id, summary.hold_review_at, detail={"told": channels}
        ):
            sent += 1
    return sent


def clock_job() -> dict[str, int]:
    """The worker clock's job (openmnr.web.clock), after the hotline's hold time rules."""
    now = timezone.now()
    return {"referred": refer_held(now), "reminded": remind_due_holds(now)}
