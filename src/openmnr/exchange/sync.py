"""The ICCAM cycle: import, then export, once at a time, with a count of failures that alerts.

`run_cycle` is what `openmnr iccam sync` runs and what the worker's clock runs every minute when
ICCAM is configured. A cycle holds a lease on its `SyncState` row (a conditional UPDATE), so two
workers never run one at the same time; a cycle that finds the lease taken does nothing.

A cycle *fails* when ICCAM itself is lost (network, TLS, 5xx, tokens, an answer that makes no
sense): it stops where it is, and everything not done is done by the next one. Errors of single
items (an unknown id, a malformed record, a refused message) do not fail the cycle; they are shown
to administrators on the exchange page. After `ALERT_AFTER` failed cycles in a row the
administrators are alerted by e-mail, once, and the audit log records it; a good cycle clears it.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openmnr.audit import services as audit
from openmnr.core.exchange import ExchangeError
from openmnr.core.exchange.iccam import IccamClient

from . import config, federation, iccam_export, iccam_import
from .models import Channel, RowState, SyncState

log = logging.getLogger(__name__)

ALERT_AFTER = 3
LEASE = timedelta(minutes=15)


@dataclass
class CycleReport:
    """What one cycle did, as `openmnr iccam sync` prints it."""

    imported: int = 0
    joined: int = 0
    already: int = 0
    acknowledged: int = 0
    queued: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    uncertain: int = 0
    retry_later: int = 0
    followed: int = 0
    item_errors: list[str] = field(default_factory=list)
    error: str = ""
    ran: bool = True

    def count(self, state: str) -> None:
        name = {RowState.SENT: "sent", RowState.SKIPPED: "skipped", RowState.FAILED: "failed"}.get(state)
        setattr(self, name or "uncertain", getattr(self, name or "uncertain") + 1)

    def lines(self) -> list[str]:
        if not self.ran:
            return ["another ICCAM cycle is running: nothing done"]
        lines = [
            f"imported {self.imported} item(s) ({self.joined} joined an open case), "
            f"acknowledged {self.acknowledged}, {self.already} already here",
            f"queued {self.queued}, sent {self.sent}, skipped {self.skipped}, failed {self.failed}, "
            f"uncertain {self.uncertain}, to retry {self.retry_later}",
            f"partner actions seen on our exported reports: {self.followed}",
        ]
        lines += [f"item error: {error}" for error in self.item_errors]
        if self.error:
            lines.append(f"cycle failed: {self.error}")
        return lines

    def as_dict(self) -> dict:
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("item_errors", "ran") and not key.startswith("_")
        } | {"item_errors": self.item_errors[:50]}


def _state() -> SyncState:
    state, _ = SyncState.objects.get_or_create(channel=Channel.ICCAM)
    return state


def _take_lease() -> str | None:
    _state()
    now = timezone.now()
    token = secrets.token_hex(16)
    won = (
        SyncState.objects.filter(channel=Channel.ICCAM)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, lease_token=token)
    )
    return token if won else None


def run_cycle(client: IccamClient | None = None) -> CycleReport:
    """One full cycle (import, then export). Raises `config.NotConfigured` when ICCAM is not set up."""
    report = CycleReport()
    token = _take_lease()
    if token is None:
        report.ran = False
        return report
    started = timezone.now()
    state = _state()
    try:
        client = client or config.iccam_client()
        with client:
            iccam_import.run(client, state, report, started=started)
            iccam_export.queue_assessments(report)
            iccam_export.send_due(client, report)
            iccam_export.follow(client, report)
    except ExchangeError as exc:
        report.error = str(exc)
    except config.NotConfigured as exc:
        report.error = str(exc)
        _finish(state, token, report, started)
        raise
    _finish(state, token, report, started)
    return report


def _finish(state: SyncState, token: str, report: CycleReport, started) -> None:
    with transaction.atomic():
        locked = SyncState.objects.select_for_update().get(pk=state.pk)
        if locked.lease_token != token:
            return  # the lease ran out and another cycle took over; it keeps the record
        locked.cursor = state.cursor  # the import pass moves it only when it completed
        locked.last_cycle_at = started
        locked.last_summary = report.as_dict()
        locked.lease_until, locked.lease_token = None, ""
        if report.error:
            locked.failures_in_a_row += 1
            locked.last_error = report.error[:4000]
            if locked.failures_in_a_row >= ALERT_AFTER and locked.alerted_at is None:
                locked.alerted_at = timezone.now()
                _alert(locked)
        else:
            locked.failures_in_a_row = 0
            locked.last_ok_at = started
            locked.last_error = ""
            locked.alerted_at = None
        locked.save()


def _alert(state: SyncState) -> None:
    """Tell every administrator with an e-mail address; the audit log keeps that it happened."""
    admins = get_user_model().objects.filter(groups__name="administrator", is_active=True).exclude(email="")
    addresses = sorted({user.email for user in admins})
    delivered = False
    if addresses:
        try:
            send_mail(
                subject="OpenMNR: the ICCAM exchange is failing",
                message=(
                    f"The last {state.failures_in_a_row} ICCAM cycles failed. The last error was:\n\n"
                    f"{state.last_error}\n\nNothing is lost: what was not sent waits in the outbox. "
                    "See the exchange page for details."
                ),
                from_email=settings.TAKEDOWN_FROM_EMAIL,
                recipient_list=addresses,
            )
            delivered = True
        except OSError:
            log.exception("the ICCAM alert could not be mailed")
    audit.record(
        "exchange.iccam.alert",
        obj=state,
        outcome=audit.FAILURE,
        detail={
            "failures_in_a_row": state.failures_in_a_row,
            "mailed_to": len(addresses) if delivered else 0,
        },
    )


def status() -> SyncState:
    return _state()


def clock_job() -> None:
    """The worker's clock, every minute: an ICCAM cycle when ICCAM is configured, and federation
    messages that wait for a partner."""
    if config.iccam_configured():
        try:
            report = run_cycle()
            if report.error:
                log.warning("ICCAM cycle failed: %s", report.error)
        except config.NotConfigured as exc:
            log.error("ICCAM is half configured: %s", exc)
    federation.queue_outcomes()
    federation.send_due()
