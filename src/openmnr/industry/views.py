"""Staff pages under /staff/industry/: the risk-ordered queue, a case, its group, forwarding,
outcomes and referral packages, the protective viewer, statistics, and provider credentials.

Thin: each view checks its permission and calls one service function (cases, viewer, stats,
credentials). Every page is never cached; downloads and revealed bytes say no-store.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import annotations, cases, credentials, stats, triage, viewer
from .models import Case, Credential, File
from .states import CaseState, Outcome


def _states():
    return CaseState.choices


@never_cache
@permission_required("industry.triage_reports", raise_exception=True)
def queue_view(request):
    state = request.GET.get("state", CaseState.QUEUED)
    if state not in CaseState.values:
        state = CaseState.QUEUED
    return render(
        request,
        "industry/queue.html",
        {"cases": cases.queue(state)[:200], "state": state, "states": _states(), "forwarding": False},
    )


@never_cache
@permission_required("industry.triage_reports", raise_exception=True)
def forwarding_view(request):
    state = request.GET.get("state", CaseState.QUEUED)
    if state not in CaseState.values:
        state = CaseState.QUEUED
    return render(
        request,
        "industry/queue.html",
        {
            "cases": cases.queue(state, home=False)[:200],
            "state": state,
            "states": _states(),
            "forwarding": True,
        },
    )


def _recipients():
    from openmnr.takedown.services import referral_recipients

    return referral_recipients()


@never_cache
@permission_required("industry.triage_reports", raise_exception=True)
def case_view(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("report", "outcome_by"), pk=case_id)
    cases.seen(case, request.user, request=request)
    facts = triage.facts_of(case.report)
    files = list(case.report.files.all())
    for f in files:
        f.provider_view = annotations.file_vocabulary(f.classification, f.annotations)
        f.flag_labels = [annotations.flag_label(code) for code in f.flags]
    return render(
        request,
        "industry/case.html",
        {
            "case": case,
            "report": case.report,
            "facts": facts,
            "incident": annotations.incident_label(case.report.incident_type),
            "report_flags": [annotations.REPORT_FLAGS.get(a, a) for a in facts.annotations],
            "files": files,
            "linked": len(triage.linked_cases(case)) - 1,
            "outcomes": Outcome.choices,
            "recipients": _recipients() if request.user.has_perm("industry.export_referral") else [],
            "transitions": case.transitions.all(),
        },
    )


@never_cache
@permission_required("industry.triage_reports", raise_exception=True)
def group_view(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("report"), pk=case_id)
    return render(request, "industry/group.html", {"case": case, "group": triage.linked_cases(case)})


@require_POST
@permission_required("industry.mark_outcome", raise_exception=True)
def outcome_view(request, case_id: int):
    try:
        cases.mark_outcome(
            case_id,
            request.user,
            request.POST.get("outcome", ""),
            request.POST.get("note", ""),
            request=request,
        )
        messages.success(request, f"Outcome of industry report case {case_id} recorded.")
    except (cases.CaseError, cases.TransitionNotAllowed) as exc:
        messages.error(request, str(exc))
    return redirect("industry:case", case_id=case_id)


@require_POST
@permission_required("industry.export_referral", raise_exception=True)
@step_up_required
def export_view(request, case_id: int):
    recipient = None
    if request.POST.get("recipient"):
        recipient = _recipients().filter(pk=request.POST["recipient"]).first()
    try:
        name, data = cases.export_referral(case_id, request.user, recipient=recipient, request=request)
    except (cases.CaseError, cases.TransitionNotAllowed) as exc:
        messages.error(request, str(exc))
        return redirect("industry:case", case_id=case_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@permission_required("industry.triage_reports", raise_exception=True)
def file_view(request, pk: int):
    file = get_object_or_404(File.objects.select_related("report__case"), pk=pk)
    return render(
        request,
        "industry/file.html",
        {
            "file": file,
            "case": file.report.case if hasattr(file.report, "case") else None,
            "revealed": viewer.is_revealed(file, request),
            "provider_view": annotations.file_vocabulary(file.classification, file.annotations),
            "flag_labels": [annotations.flag_label(code) for code in file.flags],
        },
    )


@require_POST
@permission_required("industry.reveal_media", raise_exception=True)
@step_up_required
def reveal_view(request, pk: int):
    file = get_object_or_404(File, pk=pk)
    try:
        viewer.reveal(file, request)
    except viewer.RevealError as exc:
        messages.error(request, str(exc))
    return redirect("industry:file", pk=pk)


@require_POST
@permission_required("industry.reveal_media", raise_exception=True)
def hide_view(request, pk: int):
    viewer.hide(request)
    return redirect("industry:file", pk=pk)


def _private(response):
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@permission_required("industry.reveal_media", raise_exception=True)
def media_view(request, pk: int):
    file = get_object_or_404(File, pk=pk)
    try:
        data = viewer.revealed_bytes(file, request)
    except viewer.RevealError:
        raise Http404("Not revealed") from None
    return _private(HttpResponse(data, content_type="application/octet-stream"))


@permission_required("industry.triage_reports", raise_exception=True)
def thumbnail_view(request, pk: int):
    file = get_object_or_404(File, pk=pk)
    data = None if file.matched else viewer.thumbnail_bytes(file)
    if data is None:
        raise Http404("No thumbnail")
    return _private(HttpResponse(data, content_type="image/jpeg"))


@never_cache
@permission_required("industry.view_statistics", raise_exception=True)
def statistics_view(request):
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 3660))
    except ValueError:
        days = 30
    now = timezone.now()
    since = timezone.make_aware(datetime.combine(timezone.localdate(now) - timedelta(days=days - 1), time()))
    return render(
        request,
        "industry/statistics.html",
        {
            "days": days,
            "figures": stats.summary(since, now),
            "all_time": stats.summary(now - timedelta(days=36600), now),
        },
    )


#: The credential issued by the POST that redirected to the page, shown once by the GET after it.
ISSUED_SESSION = "industry_issued_credential"


@never_cache
@permission_required("industry.manage_credentials", raise_exception=True)
def credentials_view(request):
    """Issue on POST, then redirect (POST-redirect-GET): reloading the page shows the list and never
    issues a second credential. The password travels to the next GET in the session (signed-in,
    server-side) and is removed from it as it is shown."""
    if request.method == "POST":
        if issued := _issue(request):
            request.session[ISSUED_SESSION] = issued
        return redirect("industry:credentials")
    return render(
        request,
        "industry/credentials.html",
        {
            "credentials": Credential.objects.select_related("provider").order_by("-created_at")[:500],
            "providers": credentials.providers(),
            "issued": request.session.pop(ISSUED_SESSION, None),
        },
    )


def _issue(request):
    from openmnr.accounts.stepup import has_recent_second_factor

    if not has_recent_second_factor(request):
        messages.error(
            request, "Enter a fresh authenticator code first (step-up), then issue the credential."
        )
        return None
    provider = get_user_model().objects.filter(pk=request.POST.get("provider") or 0).first()
    if provider is None:
        messages.error(request, "Choose an industry member account.")
        return None
    try:
        credential, secret = credentials.issue(provider, by=request.user, request=request)
    except credentials.CredentialError as exc:
        messages.error(request, str(exc))
        return None
    messages.success(request, f"Credential {credential.username} issued to {provider.get_username()}.")
    return {"username": credential.username, "password": secret}


@require_POST
@permission_required("industry.manage_credentials", raise_exception=True)
def revoke_view(request, pk: int):
    credential = get_object_or_404(Credential, pk=pk)
    credentials.revoke(credential, by=request.user, request=request)
    messages.success(request, f"Credential {credential.username} revoked.")
    return redirect("industry:credentials")
