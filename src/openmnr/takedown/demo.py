"""Demo data for `make run`: one case from report to confirmed removal, with its whole timeline
(trace, routing, notice, acknowledgement, checks, removal) and a signed referral.

It takes the hotline demo's case of known material (`is_demo`, assessed illegal) when there is one,
else reports its own benign demo address through the hotline's intake and assesses it through the
hotline's state machine. Nothing leaves the machine: the trace is fixed data, the checks follow a
script, and no notice or e-mail is really sent (each is recorded as the app would record it). The
story is replayed through the real tick on a clock set three days back, so that the timeline and the
statistics read as a past case. Run again, nothing is created twice.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from openmnr.common.demo import base_url
from openmnr.core.hosting.trace import HostingTrace
from openmnr.core.takedown.schedule import Check
from openmnr.hotline import services as hotline

from . import notices, referrals, services
from .availability import CheckResult
from .config import Tools
from .delivery import Delivery
from .models import DirectoryEntry, EntryKind, TakedownCase

DEMO_URL = "https://demo.openmnr.invalid/takedown/gallery.html"
# The host removes the content 100 minutes after the first notice.
REMOVED_AFTER = timedelta(minutes=100)


class _Clock:
    def __init__(self, start):
        self.now = start

    def to(self, moment):
        self.now = moment
        return moment


def load(out) -> None:
    case = _demo_case()
    takedown = TakedownCase.objects.filter(pk=case.id).first()
    if takedown is None:
        _entries()
        takedown = _replay(case)
    out.write("\nDemo notice and takedown (nothing is sent; the trace and the checks are scripted):\n")
    out.write(
        f"  case {case.id}: {takedown.get_status_display()}, {takedown.notices.count()} message(s), "
        f"removed {takedown.removed_at:%Y-%m-%d %H:%M} UTC\n"
        if takedown.removed_at
        else f"  case {case.id}: {takedown.get_status_display()}\n"
    )
    out.write(f"  Timeline: {base_url()}/staff/takedown/cases/{case.id}/\n")
    out.write(f"  Statistics: {base_url()}/staff/takedown/statistics/\n")


def _demo_case() -> hotline.CaseSummary:
    found = hotline.demo_case() or hotline.demo_case(DEMO_URL)
    if found is not None:
        return found
    return hotline.file_demo_report(DEMO_URL, "Demo report for notice and takedown: a benign page.")


def _entries() -> None:
    """A law-enforcement contact (the demo liaison may download referrals), a partner hotline and an
    international fallback, so that routing has somewhere to send everything."""
    police, _created = DirectoryEntry.objects.get_or_create(
        kind=EntryKind.LAW_ENFORCEMENT,
        name="Demo national cybercrime unit",
        defaults={"country": settings.TAKEDOWN_HOME_COUNTRY, "emails": "referrals@police.example"},
    )
    liaison = (
        get_user_model().objects.filter(groups__name="law_enforcement", username="law-enforcement").first()
    )
    if liaison is not None:
        police.members.add(liaison)
    partner_country = "BR" if settings.TAKEDOWN_HOME_COUNTRY != "BR" else "PT"
    DirectoryEntry.objects.get_or_create(
        kind=EntryKind.PARTNER,
        name=f"Demo partner hotline ({partner_country})",
        defaults={"country": partner_country, "emails": "reports@partner-hotline.example", "language": "pt"},
    )
    DirectoryEntry.objects.get_or_create(
        kind=EntryKind.FALLBACK,
        name="Demo international network",
        defaults={"emails": "reports@network.example"},
    )


def _replay(case: hotline.CaseSummary) -> TakedownCase:
    """Run the case through the real tick on a clock three days back."""
    start = timezone.now() - timedelta(days=3)
    # Only demo rows are moved back, so that the report comes before the replayed notices.
    hotline.backdate_demo_case(
        case.id, opened_at=start - timedelta(minutes=20), assessed_at=start - timedelta(minutes=5)
    )
    clock = _Clock(start)
    first_notice = start
    tools = Tools(
        tracer=_FixedTracer(clock),
        check=lambda _case: _scripted_check(clock.now, first_notice),
        deliver=lambda _message: Delivery(True),
    )
    services.open_case(case.id, clock.now)
    services.tick(clock.now, tools=tools)  # trace, route, first notice at once (known material)
    notice = TakedownCase.objects.get(pk=case.id).notices.first()
    if notice is not None:
        services.acknowledge(
            notices.ack_token(notice.reference),
            "Received; our abuse team is on it. (demo)",
            at=clock.to(start + timedelta(minutes=12)),
        )
    for minutes in (30, 60, 90, 120, 123, 126):
        services.tick(clock.to(start + timedelta(minutes=minutes)), tools=tools)
    services.tick(clock.to(timezone.now()), tools=tools)  # the daily checks since: still gone
    _refer(case)
    return TakedownCase.objects.get(pk=case.id)


def _refer(case: hotline.CaseSummary) -> None:
    senior = get_user_model().objects.filter(groups__name="senior_analyst", username="senior-analyst").first()
    police = referrals.recipients().filter(name="Demo national cybercrime unit").first()
    if senior is not None and police is not None:
        referrals.send(case.id, senior, recipient_id=police.pk, deliver=lambda _message: Delivery(True))


def _scripted_check(now, first_notice) -> CheckResult:
    if now < first_notice + REMOVED_AFTER:
        return CheckResult(Check.ONLINE, 200, "demo: the page and its media are still there")
    return CheckResult(Check.GONE, 404, "demo: HTTP 404")


class _FixedTracer:
    """The hosting the demo case is traced to: a documentation address (RFC 5737) in the home
    country, on a network with an abuse contact."""

    def __init__(self, clock: _Clock):
        self._clock = clock

    def trace(self, hostname: str) -> HostingTrace:
        return HostingTrace(
            hostname=hostname,
            cname_chain=(),
            ips=("203.0.113.10",),
            asn=64500,
            org="Example Hosting (demo)",
            country=settings.TAKEDOWN_HOME_COUNTRY,
            cdn=None,
            abuse_contacts=("abuse@hosting.example",),
            registrar="Example Registrar (demo)",
            registrar_abuse_contacts=("abuse@registrar.example",),
            traced_at=self._clock.now,
        )
