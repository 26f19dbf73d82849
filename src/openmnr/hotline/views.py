"""Hotline pages: the public report form and status lookup, the analyst's queue and case pages
(claim, release, describe the site, set aside, complete), the reports without an address, and the
statistics.

Thin: each view parses its input, checks permission and calls one service function; the work is in
intake.py, cases.py, assess.py and viewer.py. The pages of one media item (the protective viewer and
its classification) are item_views.py, which takes `exposure` and `back_to_case` from here; law
enforcement's held-case pages are held_views.py.
"""

import csv
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from . import assess, cases, codes, intake, statistics, throttle, viewer
from .errors import HotlineError
from .forms import (
    ClassificationForm,
    HoldForm,
    ReportForm,
    SetAsideForm,
    SiteForm,
    StatusForm,
)
from .models import Case
from .states import State


def refuse_files(view):
    """Answer 400 to a multipart body before anything reads it: the form takes no files, and the
    material itself must never be sent, so not even a temporary file of it is written."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and request.content_type == "multipart/form-data":
            return render(request, "hotline/no_files.html", status=400)
        return view(request, *args, **kwargs)

    return wrapped


def public_form(view):
    """A public page with a form: no sign-in, files refused first, then the usual CSRF check."""
    return login_not_required(csrf_exempt(refuse_files(csrf_protect(never_cache(view)))))


@public_form
def report_view(request):
    form = ReportForm(request.POST or None)
    if request.method == "POST":
        if not throttle.allow(request, "report"):
            return render(request, "hotline/too_many.html", status=429)
        if form.is_valid():
            try:
                submission = intake.receive_public(form.report(), request=request)
            except HotlineError as exc:
                form.add_error(None, str(exc))
            else:
                return render(
                    request,
                    "hotline/report_received.html",
                    {
                        "code": codes.display(submission.tracking_code),
                        "help": settings.HOTLINE_HELP,
                        "without_address": not submission.urls.exists(),
                        "completed": form.completed,
                    },
                )
    return render(request, "hotline/report_form.html", {"form": form}, status=400 if form.errors else 200)


@public_form
def status_view(request):
    form = StatusForm(request.POST or None)
    status, error = None, ""
    if request.method == "POST":
        if not throttle.allow(request, "status"):
            return render(request, "hotline/too_many.html", status=429)
        if form.is_valid():
            try:
                status = intake.status_for_code(form.cleaned_data["code"])
            except HotlineError:
                error = _("We have no report with this tracking code. Check it and try again.")
    http_status = 400 if form.errors else 404 if error else 200
    return render(
        request, "hotline/status.html", {"form": form, "status": status, "error": error}, status=http_status
    )


# Staff pages.


def exposure(request) -> dict:
    """The analyst's exposure today against the limit, for the banner of every page that may show media."""
    spent, limit = viewer.exposure_today(request.user), viewer.exposure_limit()
    return {
        "exposure_minutes": int(spent.total_seconds() // 60),
        "exposure_limit": int(limit.total_seconds() // 60),
        "exposure_over": spent >= limit,
    }


@permission_required("hotline.work_queue", raise_exception=True)
def queue_view(request):
    state = request.GET.get("state", State.TRIAGED)
    if state not in State.values:
        state = State.TRIAGED
    return render(
        request,
        "hotline/queue.html",
        {
            "cases": cases.queue(state)[:200],
            "state": state,
            "state_label": State(state).label,
            "states": State.choices,
            "without_address": intake.without_address().count(),
            **exposure(request),
        },
    )


@permission_required("hotline.work_queue", raise_exception=True)
def case_view(request, case_id: int):
    case = get_object_or_404(Case.objects.select_related("claimed_by", "duplicate_of"), pk=case_id)
    held = case.is_held_by(request.user)
    return render(
        request,
        "hotline/case.html",
        {
            "case": case,
            "held": held,
            "items": case.items.all(),
            "transitions": case.transitions.all(),
            "reports": case.reports.select_related("submission").order_by("submission__received_at")[:50],
            # The takedown app fills this section by providing the first template.
            "hosting_template": select_template(["takedown/case_hosting.html", "hotline/_hosting.html"]),
            "exchange_template": select_template(["exchange/case_exchange.html", "hotline/_exchange.html"]),
            "page_form": ClassificationForm() if held and not case.items.exists() else None,
            "site_form": SiteForm(
                initial={
                    "site_type": case.site_type,
                    "commerciality": case.commerciality,
                    "payment_methods": case.payment_methods or [],
                }
            )
            if held
            else None,
            "hold_form": HoldForm() if held else None,
            "set_aside_form": SetAsideForm() if held else None,
            **exposure(request),
        },
    )


def back_to_case(case_id: int):
    return redirect("hotline:case", case_id=case_id)


def _act(request, case_id: int, action) -> HttpResponse:
    """Run a service call; a refusal becomes a message on the case page."""
    try:
        action()
    except HotlineError as exc:
        messages.error(request, str(exc))
    return back_to_case(case_id)


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def claim_view(request, case_id: int):
    return _act(request, case_id, lambda: cases.claim(case_id, request.user, request=request))


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def release_view(request, case_id: int):
    try:
        cases.release(case_id, request.user, request=request)
    except HotlineError as exc:
        messages.error(request, str(exc))
        return back_to_case(case_id)
    return redirect("hotline:queue")


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def complete_view(request, case_id: int):
    page_outcome = None
    if "assessment" in request.POST:
        form = ClassificationForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the page's outcome.")
            return back_to_case(case_id)
        page_outcome = form.classification()
    hold_form = HoldForm(request.POST)
    hold_reason = hold_form.cleaned_data["hold_for_police"] if hold_form.is_valid() else ""
    try:
        case = assess.complete(
            case_id, request.user, page_outcome=page_outcome, hold_for_police=hold_reason, request=request
        )
    except HotlineError as exc:
        messages.error(request, str(exc))
        return back_to_case(case_id)
    held = " and held for the police" if case.state == State.HELD else ""
    messages.success(request, f"Case {case_id} assessed{held}.")
    return redirect("hotline:queue")


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def site_view(request, case_id: int):
    form = SiteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the site's type, commerciality and payment methods from the lists.")
        return back_to_case(case_id)
    return _act(
        request, case_id, lambda: assess.describe_site(case_id, request.user, form.site(), request=request)
    )


@permission_required("hotline.work_queue", raise_exception=True)
def without_address_view(request):
    return render(request, "hotline/without_address.html", {"reports": intake.without_address()[:200]})


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def handled_view(request, submission_id: int):
    try:
        intake.mark_handled(submission_id, request.user, request=request)
        messages.success(request, f"Report {submission_id} marked as dealt with.")
    except HotlineError as exc:
        messages.error(request, str(exc))
    return redirect("hotline:without-address")


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def set_aside_view(request, case_id: int):
    form = SetAsideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how to set the case aside and give a reason.")
        return back_to_case(case_id)
    data = form.cleaned_data
    return _act(
        request,
        case_id,
        lambda: cases.set_aside(
            case_id,
            request.user,
            data["to"],
            reason=data["reason"],
            duplicate_of=data["duplicate_of"],
            request=request,
        ),
    )


@permission_required("hotline.work_queue", raise_exception=True)
def statistics_view(request):
    """The published statistics of one year, as a page with charts or (?format=csv) as CSV."""
    now = timezone.now()
    try:
        year = int(request.GET.get("year", now.year))
    except ValueError:
        year = now.year
    if not 2000 <= year <= now.year:
        year = now.year
    tables = statistics.for_year(year)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="hotline-statistics-{year}.csv"'
        csv.writer(response).writerows(statistics.as_csv_rows(year, tables))
        return response
    return render(
        request,
        "hotline/statistics.html",
        {"year": year, "years": range(now.year, now.year - 5, -1), "tables": tables},
    )
