"""What other apps call. The takedown app above all: routing hands a case hosted in a partner's
country to the network instead of e-mailing it, and each action on a case is passed on to the
partners that care.

    forward(case_id, *, hosting)                      -> "federation" | "iccam" | None
    record_action(case_id, action, *, at, reason="", note="", hosting=None) -> messages queued
    network_events(case_id)                           -> [NetworkEvent], oldest first
    removed_through_network(case_id)                  -> datetime | None

`forward` picks the channel: an OpenMNR partner configured for the hosting country first, else ICCAM
when it is configured; None means neither applies and the caller keeps to e-mail. `hosting` is
{"country", "ip", "isp"} from the case's trace. `record_action` takes an action code of the
vocabulary (referred_to_police, notice_to_host, removed, unavailable, moved, not_illegal) and queues
it for ICCAM (items imported from a partner's report) and for the partners that forwarded the case.
Both run inside the caller's transaction, so a decision and its messages commit together.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.vocabulary import vocabulary

from . import config, federation, iccam_export, network, outbox
from .models import Channel, NetworkEvent

ICCAM_REPORT = "report"


def forward(case_id: int, *, hosting: dict) -> str | None:
    country = (hosting.get("country") or "").upper()
    with transaction.atomic():
        partner = federation.partner_for_country(country)
        if partner is not None:
            federation.forward(case_id, partner, hosting=hosting)
            _audit_forward(case_id, Channel.FEDERATION, country, partner.name)
            return Channel.FEDERATION
        if config.iccam_configured() and country and country != config.iccam_country():
            _queue_iccam_report(case_id, hosting)
            _audit_forward(case_id, Channel.ICCAM, country, "ICCAM")
            return Channel.ICCAM
    return None


def _audit_forward(case_id: int, channel: str, country: str, to: str) -> None:
    audit.record(
        "exchange.forward",
        object_type="hotline.case",
        object_id=str(case_id),
        detail={"channel": channel, "hosting_country": country, "to": to},
    )


def _queue_iccam_report(case_id: int, hosting: dict) -> None:
    from openmnr.core.exchange.iccam_data import Classification, ExportItem, Hosting, report_body
    from openmnr.hotline import services as hotline

    case = hotline.case_summary(case_id)
    host = Hosting(country=hosting.get("country", ""), ip=hosting.get("ip", ""), isp=hosting.get("isp", ""))
    page_host = _hostname(case.url)
    illegal = ("baseline", "nationally_illegal")
    items = [
        ExportItem(
            url=case.url,
            is_source_url=True,
            content_type="link",
            classification=Classification(case.assessment, case.age_group)
            if case.assessment in illegal
            else None,
            hosting=host,
            reference=f"OpenMNR-{case_id}",
        )
    ]
    for number, item in enumerate(hotline.items_of(case_id), start=1):
        if item.assessment not in illegal or item.url == case.url:
            continue  # only illegal media goes with the page, as ICCAM expects
        items.append(
            ExportItem(
                url=item.url,
                is_source_url=False,
                content_type="video" if item.media_type.startswith("video/") else "image",
                classification=Classification(
                    item.assessment,
                    item.age_group,
                    gender=item.gender,
                    flags=frozenset(item.flags) if item.flags is not None else None,
                ),
                # The trace is of the page's host; media elsewhere goes without hosting it does not have.
                hosting=host if _hostname(item.url) == page_host else None,
                reference=f"OpenMNR-{case_id}-{number}",
            )
        )
    body = report_body(
        reference=f"OpenMNR-{case_id}",
        received_at=case.opened_at,
        analyst=config.analyst_name(),
        items=items,
        # What the hotline recorded of the site; ICCAM requires commerciality and payment methods,
        # so "not determined" stands for not recorded there.
        site_type=case.site_type,
        commerciality=case.commerciality or "not_determined",
        payment_methods=case.payment_methods or ("not_determined",),
    )
    outbox.enqueue(
        channel=Channel.ICCAM,
        kind=ICCAM_REPORT,
        dedupe_key=f"iccam:report:{case_id}",
        payload={"body": body, "hosting": hosting},
        case_id=case_id,
    )


def _hostname(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


def record_action(
    case_id: int,
    action: str,
    *,
    at: datetime | None = None,
    reason: str = "",
    note: str = "",
    hosting: dict | None = None,
) -> int:
    vocabulary().action.term(action)  # an unknown action is a programming error: raise here
    at = at or timezone.now()
    with transaction.atomic():
        queued = iccam_export.queue_action(case_id, action, at, reason=reason, hosting=hosting)
        queued += federation.queue_actions(case_id, action, at, note=note, hosting=hosting)
    return queued


def network_events(case_id: int) -> list[NetworkEvent]:
    return network.events(case_id)


def removed_through_network(case_id: int) -> datetime | None:
    event = NetworkEvent.objects.filter(case_id=case_id, action=network.REMOVED).order_by("at").first()
    return event.at if event is not None else None
