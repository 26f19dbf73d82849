"""Exporting to ICCAM: new reports of ours, our assessments and actions on imported items, and
following what partners do with what we exported.

An export pass does three things, after the import pass of the same cycle:

1. It queues our assessment of every imported item whose case was assessed here (or set aside as
   not actionable), as outbox rows: PUT .../assessment, plus a Not illegal or Unavailable action
   with its reason where the outcome calls for one.
2. It sends the outbox rows that are due. Before an assessment it reads the item again and applies
   ICCAM's rules (as INHOPE explained them to SCARt's authors): no assessment over a partner's
   Baseline, none once the item was actioned, none unless the item is assigned to our country; such
   a row is `skipped`, with the reason. Before an action it checks that the action is not already
   recorded, so a retry after a lost answer never adds it twice. A new report has no such check and
   becomes `uncertain` when its answer is lost. After a report is created, its content items are
   looked up and tied to our case, and each item hosted abroad is assigned to its hosting country
   one cycle later (ICCAM needs the time to take the new report in, as SCARt found).
3. It follows the items we exported that have no final action yet, and puts each partner action it
   sees on our case's timeline, once; a removal there is "removed through the network".

A refused row (HTTP 400...) is `failed` with ICCAM's field errors; losing ICCAM stops the pass and
leaves the row pending for the next cycle.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from openmnr.core.exchange.iccam import (
    IccamAuthError,
    IccamClient,
    IccamProtocolError,
    IccamRejected,
    IccamUnavailable,
)
from openmnr.core.exchange.iccam_data import (
    Classification,
    IccamDataError,
    NotExchangeable,
    action_body,
    assessment_body,
    read_content,
    read_report,
)
from openmnr.core.vocabulary import vocabulary
from openmnr.hotline import services as hotline

from . import config, network, outbox
from .models import Channel, NetworkItem, Origin, OutboxRow, RowState

# How many exported items one pass reads to follow their actions.
FOLLOW_LIMIT = 200
# A new report's items are assigned to their hosting country this long after it was created.
ASSIGN_DELAY = timedelta(seconds=50)
FINAL_ACTIONS = ("removed", "unavailable", "not_illegal")
_ASSESSED = (hotline.State.ASSESSED, hotline.State.ACTIONED, hotline.State.CLOSED)


class _Outcome(Exception):
    """How sending a row ended, when not with success."""

    def __init__(self, state: str, error: str, field_errors=None):
        super().__init__(error)
        self.state = state
        self.error = error
        self.field_errors = field_errors or {}


# --- 1. our assessments ---------------------------------------------------------------------------


def queue_assessments(report) -> None:
    """Outbox rows for our outcome of each imported item whose case has one now."""
    for item in NetworkItem.objects.filter(origin=Origin.IMPORTED, assessment_queued=False):
        summary = hotline.case_summary(item.case_id)
        rows = _rows_for_outcome(item, summary)
        if rows is None:
            continue  # not assessed yet
        with transaction.atomic():
            for kind, key, payload in rows:
                _, created = outbox.enqueue(
                    channel=Channel.ICCAM, kind=kind, dedupe_key=key, payload=payload, case_id=item.case_id
                )
                report.queued += created
            NetworkItem.objects.filter(pk=item.pk).update(assessment_queued=True)


def _rows_for_outcome(item: NetworkItem, summary) -> list[tuple[str, str, dict]] | None:
    now = timezone.now().isoformat()
    content = item.content_id
    if summary.state == hotline.State.NOT_ACTIONABLE:
        return [_action_row(content, "unavailable", now, "content_not_found")]
    if summary.state == hotline.State.DUPLICATE:
        return []
    if summary.state not in _ASSESSED or not summary.assessment:
        return None
    rows = []
    if summary.assessment != "not_assessable":
        classification = {"assessment": summary.assessment, "age_group": summary.age_group}
        rows.append(
            (
                "assessment",
                f"iccam:assessment:{content}",
                {"content_id": content, "classification": classification},
            )
        )
    if summary.assessment == "not_illegal":
        rows.append(_action_row(content, "not_illegal", now, "other"))
    elif summary.assessment == "not_assessable":
        rows.append(_action_row(content, "not_illegal", now, "age_unclear"))
    return rows


def _action_row(content_id: int, action: str, at: str, reason: str = "") -> tuple[str, str, dict]:
    payload = {"content_id": content_id, "action": action, "at": at, "reason": reason}
    return "action", f"iccam:action:{content_id}:{action}", payload


def queue_action(
    case_id: int, action: str, at: datetime, *, reason: str = "", hosting: dict | None = None
) -> int:
    """Rows for one of our actions on a case, for each imported item of it; how many are new.
    A move (new hosting) goes as new hosting and a new assigned country, not as an action."""
    created = 0
    for item in NetworkItem.objects.filter(case_id=case_id, origin=Origin.IMPORTED):
        if action == "moved":
            if not hosting or not hosting.get("country"):
                continue
            payload = {
                "content_id": item.content_id,
                "ip": hosting.get("ip", ""),
                "country": hosting["country"],
            }
            key = f"iccam:move:{item.content_id}:{hosting['country']}:{hosting.get('ip', '')}"
            kind = "move"
        else:
            kind, key, payload = _action_row(item.content_id, action, at.isoformat(), reason)
        created += outbox.enqueue(
            channel=Channel.ICCAM, kind=kind, dedupe_key=key, payload=payload, case_id=case_id
        )[1]
    return created


# --- 2. sending -----------------------------------------------------------------------------------


def send_due(client: IccamClient, report) -> None:
    for row_id in outbox.due(Channel.ICCAM):
        row = outbox.claim(row_id)
        if row is None:
            continue
        try:
            result = _send(client, row)
        except _Outcome as outcome:
            outbox.finish(row, outcome.state, error=outcome.error, field_errors=outcome.field_errors)
            report.count(outcome.state)
            continue
        except IccamUnavailable as exc:
            if row.kind == "report" and exc.maybe_applied:
                outbox.finish(
                    row, RowState.UNCERTAIN, error=f"{exc}; check ICCAM for the report before a retry"
                )
                report.count(RowState.UNCERTAIN)
            else:
                outbox.retry_later(row, str(exc))
                report.retry_later += 1
            raise
        except IccamAuthError as exc:
            outbox.retry_later(row, str(exc))
            raise
        state = RowState.SKIPPED if result.get("skipped") else RowState.SENT
        outbox.finish(row, state, error=result.get("skipped", ""), result=result)
        report.count(state)


def _send(client: IccamClient, row: OutboxRow) -> dict:
    try:
        if row.kind == "report":
            return _send_report(client, row)
        if row.kind == "assessment":
            return _send_assessment(client, row)
        if row.kind == "action":
            return _send_action(client, row)
        if row.kind == "assign":
            client.put_assigned_country(row.payload["content_id"], row.payload["country"])
            return {"country": row.payload["country"]}
        if row.kind == "move":
            client.put_hosting(row.payload["content_id"], row.payload["ip"], row.payload["country"])
            client.put_assigned_country(row.payload["content_id"], row.payload["country"])
            return {"country": row.payload["country"]}
    except IccamRejected as exc:
        raise _Outcome(RowState.FAILED, str(exc), exc.field_errors) from None
    except NotExchangeable as exc:
        raise _Outcome(RowState.FAILED, str(exc)) from None
    except IccamDataError as exc:
        raise _Outcome(RowState.FAILED, f"ICCAM's answer cannot be read: {exc}") from None
    except IccamProtocolError as exc:
        state = RowState.UNCERTAIN if row.kind == "report" else RowState.FAILED
        raise _Outcome(state, str(exc)) from None
    raise _Outcome(RowState.FAILED, f"unknown kind of ICCAM message {row.kind!r}")


def _send_report(client, row) -> dict:
    report_id = client.create_report(row.payload["body"])
    result = {"report_id": report_id, "mapped": False}
    try:
        _map_report(client, row.case_id, report_id, row.payload)
        result["mapped"] = True
    except (IccamUnavailable, IccamDataError, IccamRejected):
        pass  # the report exists: its items are tied to our case by the follow step
    return result


def _map_report(client, case_id: int, report_id: int, payload: dict) -> None:
    """Tie the items of a report we created to our case; queue each abroad item's assignment."""
    report = read_report(report_id, client.report(report_id))
    hosting = payload.get("hosting") or {}
    home = config.iccam_country()
    for content_id in report.content_ids:
        if NetworkItem.objects.filter(content_id=content_id).exists():
            continue
        content = read_content(client.content(content_id))
        with transaction.atomic():
            NetworkItem.objects.create(
                case_id=case_id,
                origin=Origin.EXPORTED,
                report_id=report_id,
                content_id=content_id,
                url=content.url,
                is_source_url=content.is_source_url,
                reporting_hotline=home,
                hosting_country=content.hosting_country[:2],
                assigned_country=content.assigned_country[:2],
                reference=payload["body"].get("hotlineReference", ""),
                acknowledged_at=timezone.now(),
            )
            country = content.hosting_country or hosting.get("country", "")
            if country and country != home:
                outbox.enqueue(
                    channel=Channel.ICCAM,
                    kind="assign",
                    dedupe_key=f"iccam:assign:{content_id}",
                    payload={"content_id": content_id, "country": country},
                    case_id=case_id,
                    not_before=timezone.now() + ASSIGN_DELAY,
                )
    network.record_event(
        case_id,
        Channel.ICCAM,
        partner=f"ICCAM ({hosting.get('country') or 'partner'})",
        action="forwarded",
        at=timezone.now(),
        text=f"created in ICCAM as report {report_id} with {len(report.content_ids)} URL(s)",
        dedupe_key=f"iccam:report:{report_id}",
    )


def _send_assessment(client, row) -> dict:
    content_id = row.payload["content_id"]
    content = read_content(client.content(content_id))
    home = config.iccam_country()
    if content.assessment is not None and content.assessment.assessment == "baseline":
        return {"skipped": "the partner assessed it Baseline: ICCAM takes no other assessment"}
    if content.actions:
        return {"skipped": "the item is already actioned in ICCAM"}
    if content.assigned_country and content.assigned_country != home:
        return {"skipped": f"the item is assigned to {content.assigned_country}, not {home}"}
    given = row.payload["classification"]
    classification = Classification(assessment=given["assessment"], age_group=given.get("age_group", ""))
    client.put_assessment(content_id, assessment_body(classification, config.analyst_name()))
    return {"assessment": given["assessment"]}


def _send_action(client, row) -> dict:
    content_id, action = row.payload["content_id"], row.payload["action"]
    body = action_body(
        action,
        datetime.fromisoformat(row.payload["at"]),
        config.analyst_name(),
        reason=row.payload.get("reason", ""),
    )
    content = read_content(client.content(content_id))
    home = config.iccam_country()
    if content.assigned_country and content.assigned_country != home:
        return {"skipped": f"the item is assigned to {content.assigned_country}, not {home}"}
    if any(existing.type_id == body["actionType"] for existing in content.actions):
        return {"action": action, "already": True}  # recorded before (a lost answer): not twice
    client.post_action(content_id, body)
    return {"action": action}


# --- 3. following ---------------------------------------------------------------------------------


def follow(client: IccamClient, report) -> None:
    for row in OutboxRow.objects.filter(channel=Channel.ICCAM, kind="report", state=RowState.SENT):
        if row.result.get("report_id") and not row.result.get("mapped"):
            try:
                _map_report(client, row.case_id, row.result["report_id"], row.payload)
            except (IccamDataError, IccamProtocolError, IccamRejected) as exc:
                report.item_errors.append(f"report {row.result['report_id']}: {exc}")
                continue
            OutboxRow.objects.filter(pk=row.pk).update(result={**row.result, "mapped": True})
    items = NetworkItem.objects.filter(origin=Origin.EXPORTED, finished_at__isnull=True).order_by("pk")
    for item in items[:FOLLOW_LIMIT]:
        try:
            content = read_content(client.content(item.content_id))
        except (IccamDataError, IccamProtocolError, IccamRejected) as exc:
            report.item_errors.append(f"content {item.content_id}: {exc}")
            continue
        labels = dict(vocabulary().action.choices())
        for action in content.actions:
            if action.code is None:
                continue
            at = action.at or timezone.now()
            where = content.assigned_country or content.hosting_country or "?"
            created = network.record_event(
                item.case_id,
                Channel.ICCAM,
                partner=f"ICCAM hotline in {where}",
                action=action.code,
                at=at,
                text=f"{labels[action.code]} (ICCAM content {item.content_id})",
                dedupe_key=f"iccam:{item.content_id}:{action.type_id}:{at.isoformat()}",
            )
            report.followed += created
        if any(action.code in FINAL_ACTIONS for action in content.actions):
            NetworkItem.objects.filter(pk=item.pk).update(finished_at=timezone.now())
