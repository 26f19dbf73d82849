"""Hotline pages: the public report form and status lookup, and the analyst queue and viewer.

Thin: each view parses its input, checks permission and calls one service function; the work is in
intake.py, cases.py, assess.py and viewer.py.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import assess, cases, codes, intake, throttle, viewer
from .errors import HotlineError
from .forms import ClassificationForm, ProposeForm, ReportForm, SetAsideForm, StatusForm
from .models import Case, MediaItem
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
            submission = intake.receive_public(form.report(), request=request)
            return render(
                request,
                "hotline/report_received.html",
                {"code": codes.display(submission.tracking_code), "completed": form.completed},
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


def _exposure(request) -> dict:
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
            **_exposure(request),
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
            "set_aside_form": SetAsideForm() if held else None,
            **_exposure(request),
        },
    )


def _back_to_case(case_id: int):
    return redirect("hotline:case", case_id=case_id)


def _act(request, case_id: int, action) -> HttpResponse:
    """Run a service call; a refusal becomes a message on the case page."""
    try:
        action()
    except HotlineError as exc:
        messages.error(request, str(exc))
    return _back_to_case(case_id)


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
        return _back_to_case(case_id)
    return redirect("hotline:queue")


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def complete_view(request, case_id: int):
    page_outcome = None
    if "assessment" in request.POST:
        form = ClassificationForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose the page's outcome.")
            return _back_to_case(case_id)
        page_outcome = form.classification()
    try:
        assess.complete(case_id, request.user, page_outcome=page_outcome, request=request)
    except HotlineError as exc:
        messages.error(request, str(exc))
        return _back_to_case(case_id)
    messages.success(request, f"Case {case_id} assessed.")
    return redirect("hotline:queue")


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def set_aside_view(request, case_id: int):
    form = SetAsideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how to set the case aside and give a reason.")
        return _back_to_case(case_id)
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
@never_cache
def item_view(request, item_id: int):
    item = get_object_or_404(MediaItem.objects.select_related("case"), pk=item_id)
    shown = viewer.current(request.user)
    held = item.case.assessable_by(request.user)
    return render(
        request,
        "hotline/item.html",
        {
            "item": item,
            "case": item.case,
            "held": held,
            "revealed": shown is not None and shown.item_id == item.pk,
            "form": ClassificationForm(
                initial={
                    "assessment": item.assessment,
                    "category": item.category,
                    "age_group": item.age_group,
                }
            )
            if held
            else None,
            "propose_form": _propose_form(request, item),
            **_exposure(request),
        },
    )


def _propose_form(request, item):
    """Offered for media an analyst classified illegal, to those who may propose bank entries."""
    if not item.classified_illegal_by_analyst or not request.user.has_perm("banks.propose_entry"):
        return None
    return ProposeForm(banks=assess.bank_choices(request.user))


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
@permission_required("banks.propose_entry", raise_exception=True)
def propose_view(request, item_id: int):
    form = ProposeForm(request.POST, banks=assess.bank_choices(request.user))
    if not form.is_valid():
        messages.error(request, "Choose a bank.")
    else:
        try:
            count = assess.propose_to_bank(item_id, request.user, form.cleaned_data["bank"], request=request)
            if count:
                messages.success(
                    request,
                    f"{count} hash value(s) proposed; they wait for confirmation where the bank needs it.",
                )
            else:
                messages.info(
                    request,
                    f"Nothing new proposed: {form.cleaned_data['bank']} already holds this item's hashes "
                    "(proposed or confirmed).",
                )
        except HotlineError as exc:
            messages.error(request, str(exc))
    return redirect("hotline:item", item_id=item_id)


@require_POST
@permission_required("hotline.work_queue", raise_exception=True)
def classify_view(request, item_id: int):
    item = get_object_or_404(MediaItem, pk=item_id)
    form = ClassificationForm(request.POST)
    if form.is_valid():
        try:
            assess.classify_item(item_id, request.user, form.classification(), request=request)
            viewer.hide(request.user)
            messages.success(request, f"Item {item.position + 1} classified.")
            return _back_to_case(item.case_id)
        except HotlineError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Choose an assessment.")
    return redirect("hotline:item", item_id=item_id)


@require_POST
@permission_required("hotline.reveal_media", raise_exception=True)
@step_up_required
def reveal_view(request, item_id: int):
    try:
        viewer.reveal(item_id, request.user, request=request)
    except HotlineError as exc:
        messages.error(request, str(exc))
    return redirect("hotline:item", item_id=item_id)


@require_POST
@permission_required("hotline.reveal_media", raise_exception=True)
def hide_view(request, item_id: int):
    viewer.hide(request.user)
    return redirect("hotline:item", item_id=item_id)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@permission_required("hotline.reveal_media", raise_exception=True)
def media_view(request, item_id: int):
    try:
        data, media_type = viewer.revealed_bytes(item_id, request.user)
    except HotlineError:
        raise Http404("Not revealed") from None
    return _private(HttpResponse(data, content_type=media_type))


@permission_required("hotline.work_queue", raise_exception=True)
def thumbnail_view(request, item_id: int):
    try:
        data = viewer.thumbnail_bytes(item_id)
    except HotlineError:
        data = None
    if data is None:
        raise Http404("No thumbnail")
    return _private(HttpResponse(data, content_type="image/jpeg"))
