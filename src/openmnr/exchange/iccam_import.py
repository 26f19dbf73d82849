"""Importing from ICCAM: the partners' reports assigned to our country that carry no hotline reference.

One pass reads the ``no-reference`` queue from the date cursor, a page of ``maxResults`` at a time,
groups the entries by report, reads each report and each content item, and files each item as a
hotline report (a case of its canonical URL, or the open case it joins), triaged like any report.
What the partner said (report and content ids, reporting hotline, memo, site type, commerciality,
payment methods, the last assessment) is kept on a `NetworkItem`, in the same transaction as the
case, so an item is imported whole or not at all. Then the item is acknowledged in ICCAM with our
hotline reference, which takes it out of the queue.

Re-runs import nothing twice: an item whose content id is already here is only acknowledged again
(the answer to the first acknowledgement may have been lost). An item that cannot be read (malformed
JSON, an id the vocabulary does not know, a report with no content, a URL that is not one) is an
`ItemError` for that item, shown to administrators, and the pass goes on with the next. Losing ICCAM
itself (network, 5xx, TLS, tokens) stops the pass: the cycle fails and the next one starts over.

The queue drains as items are acknowledged, so the next page holds new items. A page of only items
that already failed in this pass would stop the paging; the query date then moves past them
(their assignment dates are known from their content) so that newer items are still reached. The
cursor kept for the next cycle never moves past an item that failed, so it is read again until it
imports or an administrator deals with it in ICCAM.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.exchange.iccam import IccamClient, IccamProtocolError, IccamRejected
from openmnr.core.exchange.iccam_data import (
    IccamContent,
    IccamDataError,
    IccamReport,
    queue_entries,
    read_content,
    read_content_date,
    read_report,
)
from openmnr.hotline import services as hotline

from .models import ItemError, NetworkItem, Origin

log = logging.getLogger(__name__)

MAX_PAGES = 50
# The cursor stays this far behind the cycle's start: clocks differ, and ICCAM's queue is its own.
CURSOR_MARGIN = timedelta(hours=1)


def reference_for(case_id: int, content_id: int) -> str:
    """Our hotline reference in ICCAM: unique per item, and it names our case."""
    return f"OpenMNR-{case_id}-{content_id}"


def run(client: IccamClient, state, report, *, started: datetime) -> None:
    """One import pass; updates `state.cursor` and counts in `report` (a sync.CycleReport)."""
    page_size = settings.ICCAM_MAX_RESULTS
    since = state.cursor
    date_of: dict[int, datetime | None] = {}
    failed_dates: list[datetime] = []
    failed_undated = False
    drained = False  # the queue was read to its end in this pass
    for _page in range(MAX_PAGES):
        entries = queue_entries(client.no_reference(page_size, since))
        fresh = [entry for entry in entries if entry.content_id not in date_of]
        by_report: dict[int, list[int]] = {}
        for entry in fresh:
            by_report.setdefault(entry.report_id, []).append(entry.content_id)
        for report_id, content_ids in by_report.items():
            for content_id, (ok, date) in zip(
                content_ids, _import_report(client, report_id, content_ids, report), strict=True
            ):
                date_of[content_id] = date
                if not ok and date is None:
                    failed_undated = True
                elif not ok:
                    failed_dates.append(date)
        if len(entries) < page_size:
            drained = True
            break
        if not fresh:
            # A full page of items already handled in this pass: look past them, by date.
            dates = [date_of[e.content_id] for e in entries if date_of.get(e.content_id)]
            if not dates:
                break
            since = max(dates) + timedelta(seconds=1)
    if failed_dates:
        state.cursor = min(failed_dates)
    elif drained and not failed_undated:
        # Only a queue read to its end lets the cursor move on: nothing older is left unread.
        state.cursor = max(filter(None, [state.cursor, started - CURSOR_MARGIN]))


def _import_report(
    client, report_id: int, content_ids: list[int], report
) -> list[tuple[bool, datetime | None]]:
    """Import the listed items of one report; (imported or already here?, assignment date) each."""
    outcomes: dict[int, tuple[bool, datetime | None]] = {}
    waiting = []
    for content_id in content_ids:
        if NetworkItem.objects.filter(content_id=content_id).exists():
            _acknowledge_again(client, content_id, report)
            outcomes[content_id] = (True, None)
        else:
            waiting.append(content_id)
    if waiting:
        try:
            partner_report = read_report(report_id, client.report(report_id))
        except (IccamDataError, IccamProtocolError, IccamRejected) as exc:
            partner_report = None
            for content_id in waiting:
                _item_error(report_id, content_id, f"report {report_id} cannot be read: {exc}", report)
                outcomes[content_id] = (False, _date_hint(client, content_id))
        if partner_report is not None:
            for content_id in waiting:
                outcomes[content_id] = _import_item(client, partner_report, content_id, report)
    return [outcomes[content_id] for content_id in content_ids]


def _import_item(
    client, partner_report: IccamReport, content_id: int, report
) -> tuple[bool, datetime | None]:
    report_id = partner_report.report_id
    try:
        raw = client.content(content_id)
    except (IccamProtocolError, IccamRejected) as exc:
        _item_error(report_id, content_id, f"content {content_id} cannot be read: {exc}", report)
        return False, None
    date = _lenient_date(raw)
    try:
        content = read_content(raw)
    except IccamDataError as exc:
        _item_error(report_id, content_id, f"content {content_id} cannot be read: {exc}", report)
        return False, date
    if content.content_id != content_id:
        _item_error(
            report_id, content_id, f"asked for content {content_id}, ICCAM sent {content.content_id}", report
        )
        return False, date
    try:
        with transaction.atomic():
            item, joined = _file(partner_report, content)
    except hotline.InvalidReport as exc:
        _item_error(report_id, content_id, f"content {content_id}: the URL cannot be checked: {exc}", report)
        return False, date
    except IntegrityError:
        # Imported by another pass at the same moment: it is here, whole.
        return True, date
    ItemError.objects.filter(content_id=content_id).delete()
    report.joined += joined
    report.imported += 1
    _acknowledge(client, item, report)
    return True, date


def _lenient_date(raw) -> datetime | None:
    """The assignment date of a content item whatever else is wrong with it: paging needs it."""
    try:
        return read_content_date(raw)
    except IccamDataError:
        return None


def _date_hint(client, content_id: int) -> datetime | None:
    try:
        return _lenient_date(client.content(content_id))
    except (IccamProtocolError, IccamRejected):
        return None


def _file(partner_report: IccamReport, content: IccamContent) -> tuple[NetworkItem, bool]:
    """The case and its NetworkItem, in the caller's transaction."""
    memo = content.memo or (partner_report.memo if content.is_source_url else "")
    description = f"Reported through ICCAM by hotline {partner_report.reporting_hotline}."
    if memo:
        description += f" Memo: {memo}"
    case = hotline.file_partner_report(
        content.url,
        partner_reference=f"ICCAM report {partner_report.report_id}, content {content.content_id}",
        description=description,
    )
    assessment = content.assessment
    item = NetworkItem.objects.create(
        case_id=case.id,
        origin=Origin.IMPORTED,
        report_id=partner_report.report_id,
        content_id=content.content_id,
        url=content.url,
        is_source_url=content.is_source_url,
        reporting_hotline=partner_report.reporting_hotline,
        memo=memo,
        site_type=partner_report.site_type,
        commerciality=partner_report.commerciality,
        payment_methods=list(partner_report.payment_methods),
        hosting_country=content.hosting_country[:2],
        assigned_country=content.assigned_country[:2],
        partner_assessment=assessment.assessment if assessment else "",
        partner_age_group=assessment.age_group if assessment else "",
        partner_gender=assessment.gender if assessment else "",
        partner_flags=sorted(assessment.flags or ()) if assessment else [],
        partner_actioned=bool(content.actions),
        reference=reference_for(case.id, content.content_id),
    )
    audit.record(
        "exchange.iccam.import",
        obj=item,
        detail={"report": partner_report.report_id, "content": content.content_id, "case": case.id},
    )
    return item, case.reporter_count > 1


def _acknowledge(client, item: NetworkItem, report) -> None:
    try:
        client.set_hotline_reference(item.content_id, item.reference)
    except IccamRejected as exc:
        NetworkItem.objects.filter(pk=item.pk).update(ack_error=str(exc)[:2000])
        report.item_errors.append(
            f"content {item.content_id} imported as case {item.case_id}, not acknowledged: {exc}"
        )
        return
    NetworkItem.objects.filter(pk=item.pk).update(acknowledged_at=timezone.now(), ack_error="")
    report.acknowledged += 1


def _acknowledge_again(client, content_id: int, report) -> None:
    item = NetworkItem.objects.get(content_id=content_id)
    report.already += 1
    _acknowledge(client, item, report)


def _item_error(report_id: int, content_id: int, error: str, report) -> None:
    log.warning("ICCAM import: %s", error)
    report.item_errors.append(error)
    now = timezone.now()
    updated = ItemError.objects.filter(content_id=content_id).update(
        error=error[:4000], report_id=report_id, last_at=now
    )
    if updated:
        from django.db.models import F

        ItemError.objects.filter(content_id=content_id).update(times=F("times") + 1)
    else:
        try:
            with transaction.atomic():
                ItemError.objects.create(content_id=content_id, report_id=report_id, error=error[:4000])
        except IntegrityError:
            pass
