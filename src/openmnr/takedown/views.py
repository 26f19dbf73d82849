"""Takedown pages: the staff dashboard and case timeline, an analyst's routing decision, referrals,
the statistics with their CSV exports, and the public acknowledgement link.

Thin: each view parses its input, checks permission and calls services.py, referrals.py or stats.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required
from openmnr.core.referral import KeyFileError

from . import charts, keys, referrals, services, stats
from .errors import AcknowledgementExpired, AcknowledgementInvalid, TakedownAppError
from .forms import AcknowledgeForm, DecideForm, ReferralForm
from .models import FILTERS, TakedownCase


@permission_required("takedown.view_takedown", raise_exception=True)
def dashboard_view(request):
    show = request.GET.get("show", "open")
    if show not in FILTERS:
        show = "open"
    takedowns = TakedownCase.objects.select_related("case").shown(show).order_by("next_due_at", "pk")[:300]
    return render(
        request,
        "takedown/dashboard.html",
        {"takedowns": takedowns, "show": show, "filters": FILTERS.items()},
    )


@permission_required("takedown.view_takedown", raise_exception=True)
def case_view(request, case_id: int):
    takedown = get_object_or_404(TakedownCase.objects.select_related("case"), pk=case_id)
    referral = getattr(takedown, "referral", None)
    can_refer = request.user.has_perm("takedown.send_referral") and referral is None
    return render(
        request,
        "takedown/case.html",
        {
            "takedown": takedown,
            "case": takedown.case,
            "trace": takedown.traces.first(),
            "traces": takedown.traces.all()[:20],
            "notices": takedown.notices.all(),
            "events": takedown.events.all(),
            "referral": referral,
            # Only who may download the package is offered the link (no link that answers 404).
            "may_download_referral": referral is not None
            and referrals.visible_to(request.user).filter(pk=referral.pk).exists(),
            "decide_form": DecideForm()
            if request.user.has_perm("takedown.act_takedown") and not takedown.is_finished
            else None,
            "referral_form": ReferralForm() if can_refer else None,
        },
    )


@require_POST
@permission_required("takedown.act_takedown", raise_exception=True)
def decide_view(request, case_id: int):
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.decide(
                case_id,
                request.user,
                emails=form.cleaned_data["emails"],
                partner=form.cleaned_data["partner"],
                note=form.cleaned_data["note"],
                request=request,
            )
            messages.success(request, "Routing decided: the first message goes out within a minute.")
        except TakedownAppError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
    return redirect("takedown:case", case_id=case_id)


@require_POST
@permission_required("takedown.send_referral", raise_exception=True)
@step_up_required
def send_referral_view(request, case_id: int):
    form = ReferralForm(request.POST)
    if form.is_valid():
        try:
            referrals.send(
                case_id, request.user, recipient_id=form.cleaned_data["recipient"].pk, request=request
            )
            messages.success(request, "The referral package is signed and its recipient told.")
        except TakedownAppError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Choose a law-enforcement recipient.")
    return redirect("takedown:case", case_id=case_id)


@permission_required("takedown.receive_referrals", raise_exception=True)
def referrals_view(request):
    return render(request, "takedown/referrals.html", {"referrals": referrals.visible_to(request.user)[:500]})


# Senior analysts (who send) and law-enforcement liaisons (who receive) both download; which
# referral a user may have is decided in referrals.open_for_download.
@permission_required("accounts.access_staff_home", raise_exception=True)
@never_cache
@step_up_required
def download_referral_view(request, referral_id: int):
    try:
        referral, data = referrals.open_for_download(referral_id, request.user, request=request)
    except TakedownAppError as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{referral.file_name}"'
    return response


@permission_required("accounts.access_staff_home", raise_exception=True)
def public_key_view(request):
    try:
        pem = keys.public_key_pem()
    except KeyFileError as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="hotline-referral-signing.pub.pem"'
    return response


@permission_required("takedown.view_removal_stats", raise_exception=True)
def stats_view(request):
    result = stats.measure()
    groups = [
        ("country", "Country", "Per hosting country", result.by_country),
        ("asn", "Provider", "Per provider (AS number)", result.by_asn),
        ("month", "Month", "Per month of report", result.by_month),
        ("route", "Route", "Per route (forwarded cases; removed through the network)", stats.by_route()),
    ]
    sections = [
        {
            "key": key,
            "key_label": key_label,
            "title": title,
            "groups": summaries,
            "time_chart": charts.removal_time_chart(
                f"time-{key}", f"{title}: median and 90th percentile, report to removal", summaries
            ),
            "within_chart": charts.within_chart(
                f"within-{key}", f"{title}: share removed within 1, 3 and 7 days", summaries
            ),
        }
        for key, key_label, title, summaries in groups
    ]
    overall = {"all cases": result.overall}
    return render(
        request,
        "takedown/stats.html",
        {
            "overall": result.overall,
            "overall_within_chart": charts.within_chart(
                "within-all", "All cases: share removed within 1, 3 and 7 days", overall
            ),
            "sections": sections,
        },
    )


def _csv(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@permission_required("takedown.view_removal_stats", raise_exception=True)
def stats_csv_view(request):
    return _csv(stats.summary_csv(stats.measure(), stats.by_route()), "removal-times.csv")


@permission_required("takedown.view_removal_stats", raise_exception=True)
def cases_csv_view(request):
    return _csv(stats.cases_csv(), "removal-times-per-case.csv")


@login_not_required
@never_cache
def acknowledge_view(request, token: str):
    """A notice's recipient confirms receipt. GET only shows the notice and a button: mail
    scanners open links, and a scanner must not acknowledge anything."""
    try:
        notice = services.notice_for_token(token)
    except AcknowledgementExpired as exc:
        return render(request, "takedown/acknowledge.html", {"error": str(exc), "expired": True}, status=410)
    except AcknowledgementInvalid as exc:
        return render(request, "takedown/acknowledge.html", {"error": str(exc)}, status=404)
    form = AcknowledgeForm(request.POST or None)
    done = False
    if request.method == "POST" and form.is_valid():
        notice, _new = services.acknowledge(token, form.cleaned_data["message"], request=request)
        done = True
    return render(
        request,
        "takedown/acknowledge.html",
        {"notice": notice, "form": form, "done": done or notice.acknowledged_at is not None},
        status=400 if form.errors else 200,
    )
