"""The self-assessment pages of one cycle. Thin: each view checks the role permission, finds the cycle
the user may see, and calls services.py (changes, downloads, exports), cycles.py through
``services.transition`` (review and the two signatures), analysis.py (what to show) or the renderers.
Whether a change is allowed now is the model's and the services' business (``Cycle.editable``,
``services.state_error``); the views only turn the answer into a page."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required
from openmnr.core.mnr import UnknownReferenceError

from . import analysis, charts, documents, exports, pdf, services, signoff
from .errors import CycleLocked, InvalidInput, NotAllowed
from .forms import AssignDomainForm, CapabilityForm, CommentForm, EvidenceForm, OpenCycleForm
from .frameworks import framework_of
from .models import Cycle, Evidence

ACCESS = "assessment.access_assessment"
MANAGE = "assessment.manage_cycles"
EXPORT = "assessment.export_cycle"
COMPARE = "assessment.compare_countries"


def cycle_for(request, cycle_id) -> Cycle:
    cycle = get_object_or_404(Cycle, pk=cycle_id)
    if not services.can_view(request.user, cycle):
        raise PermissionDenied
    return cycle


def _capability(cycle, number):
    try:
        return framework_of(cycle).capability(number)
    except UnknownReferenceError:
        raise Http404("No such capability in this cycle's framework") from None


def locked_page(request, cycle, error):
    return render(request, "assessment/locked.html", {"cycle": cycle, "error": str(error)}, status=409)


@permission_required(ACCESS, raise_exception=True)
@never_cache
def cycles(request):
    visible = services.visible_cycles(request.user).select_related("coordinator")
    return render(
        request,
        "assessment/cycles.html",
        {
            "cycles": visible,
            "may_open": request.user.has_perm(MANAGE),
            "may_compare": request.user.has_perm(COMPARE),
            "may_set_keys": request.user.has_perm("assessment.manage_peer_keys"),
        },
    )


@permission_required(MANAGE, raise_exception=True)
@never_cache
def open_cycle(request):
    form = OpenCycleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cycle = services.open_cycle(request.user, request=request, **form.cleaned_data)
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Cycle opened. Assign the domains to contributors next.")
            return redirect("assessment:domains", cycle.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "assessment/open_cycle.html", {"form": form}, status=status)


@permission_required(ACCESS, raise_exception=True)
@never_cache
def dashboard(request, cycle_id):
    cycle = cycle_for(request, cycle_id)
    result = analysis.assess(cycle)
    domain_charts = [
        (view, charts.domain_chart(view, result.level_name, f"chart-{view.domain.id}"))
        for view in result.domains
    ]
    return render(
        request,
        "assessment/dashboard.html",
        {
            "cycle": cycle,
            "a": result,
            "domain_charts": domain_charts,
            "legend": charts.level_legend(result.level_name),
            "live": [figure for row in result.rows for figure in row.live],
            "now": timezone.now(),
            "may_manage": request.user.has_perm(MANAGE),
            "may_export": request.user.has_perm(EXPORT),
            "signatures": signoff.signatures(cycle),
            "may_comment": services.can_comment(request.user, cycle),
            "comment_form": CommentForm(),
            "comments": cycle.comments.filter(capability=None).select_related("author"),
            # A coordinator edits every domain; marking them all "assigned to you" would say nothing.
            "mine": set()
            if request.user.has_perm(MANAGE)
            else services.assigned_domains(request.user, cycle),
        },
    )


@permission_required(MANAGE, raise_exception=True)
@never_cache
def domains(request, cycle_id):
    cycle = cycle_for(request, cycle_id)
    framework = framework_of(cycle)
    users = services.contributor_choices()
    rows = {row.domain: row for row in cycle.domains.prefetch_related("contributors")}
    error_domain, error_form = None, None
    if request.method == "POST":
        if error := services.state_error(cycle):
            return locked_page(request, cycle, error)
        domain_id = request.POST.get("domain", "")
        if domain_id not in rows:
            raise Http404("No such domain in this cycle")
        form = AssignDomainForm(request.POST, users=users, prefix=domain_id)
        if form.is_valid():
            try:
                services.assign_domain(
                    request.user,
                    cycle,
                    domain_id,
                    contributors=form.chosen_users(),
                    weight=form.cleaned_data["weight"],
                    request=request,
                )
            except CycleLocked as exc:
                return locked_page(request, cycle, exc)
            except InvalidInput as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{framework.domain(domain_id).name} saved.")
                return redirect("assessment:domains", cycle.pk)
        error_domain, error_form = domain_id, form
    forms = []
    for domain in framework.domains:
        row = rows[domain.id]
        if domain.id == error_domain:
            form = error_form
        else:
            form = AssignDomainForm(
                users=users,
                prefix=domain.id,
                initial={
                    "contributors": [str(u.pk) for u in row.contributors.all()],
                    "weight": row.weight,
                },
            )
        forms.append((domain, framework.capabilities_in(domain.id), form))
    return render(
        request,
        "assessment/domains.html",
        {"cycle": cycle, "forms": forms},
        status=400 if error_form is not None else 200,
    )


@permission_required(ACCESS, raise_exception=True)
@never_cache
def capability(request, cycle_id, number):
    cycle = cycle_for(request, cycle_id)
    cap = _capability(cycle, number)
    record = cycle.capabilities.get(capability=number)
    may_edit = services.may_edit_capability(request.user, cycle, number)
    form = _record_form(cycle, cap, record, request.POST or None)
    status = 200
    if request.method == "POST":
        _check_may_change(request, cycle, number)
        if error := services.state_error(cycle):
            return locked_page(request, cycle, error)
        if form.is_valid():
            try:
                services.record_capability(request.user, cycle, number, request=request, **form.cleaned_data)
            except CycleLocked as exc:
                return locked_page(request, cycle, exc)
            except InvalidInput as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Capability {number} saved.")
                return redirect("assessment:capability", cycle.pk, number)
        status = 400
    return _capability_page(request, cycle, cap, record, form, EvidenceForm(capability=cap), may_edit, status)


def _record_form(cycle, cap, record, data=None):
    initial = {
        "current_level": record.current_level,
        "target_level": record.target_level,
        "criteria_met": record.criteria_met,
        "confidence": record.confidence,
        "stakeholder": record.stakeholder,
    }
    return CapabilityForm(data, framework=framework_of(cycle), capability=cap, initial=initial)


def _check_may_change(request, cycle, number):
    if not services.can_edit_capability(request.user, cycle, number):
        raise PermissionDenied


def _capability_page(request, cycle, cap, record, form, evidence_form, may_edit, status):
    result = analysis.assess(cycle, with_evidence=True)
    row = result.row(cap.number)
    now = {r.number: r.current for r in result.rows}
    # The criteria checkboxes, grouped by the level they belong to (one fieldset per level).
    boxes = {box.data["value"]: box for box in form["criteria_met"]}
    levels = [
        (level, [(c, boxes[c.id], c.id in record.criteria_met) for c in cap.criteria_at(level.number)])
        for level in result.framework.levels
        if level.number > 0
    ]
    return render(
        request,
        "assessment/capability.html",
        {
            "cycle": cycle,
            "a": result,
            "cap": cap,
            "row": row,
            "record": record,
            "levels": levels,
            "form": form,
            "evidence_form": evidence_form,
            "may_edit": may_edit,
            "may_comment": services.can_comment(request.user, cycle),
            "comment_form": CommentForm(initial={"capability": cap.number}),
            "comments": cycle.comments.filter(capability=cap.number).select_related("author"),
            "history": cycle.history.filter(capability=cap.number).select_related("actor").reverse(),
            "actions": [a for a in result.plan.actions if a.capability == cap.number],
            "prerequisites": [(p, p.met_by(now)) for p in result.framework.prerequisites_of(cap.number)],
            "cited": [c for c in cap.criteria if c.cites],
            "dependants": result.framework.dependants_of(cap.number),
            "now": timezone.now(),
        },
        status=status,
    )


@require_POST
@permission_required(ACCESS, raise_exception=True)
@never_cache
def add_evidence(request, cycle_id, number):
    cycle = cycle_for(request, cycle_id)
    cap = _capability(cycle, number)
    _check_may_change(request, cycle, number)
    if error := services.state_error(cycle):
        return locked_page(request, cycle, error)
    form = EvidenceForm(request.POST, request.FILES, capability=cap)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_evidence(
                request.user,
                cycle,
                number,
                kind=data["kind"],
                title=data["title"],
                criterion=data["criterion"],
                url=data["url"],
                note=data["note"],
                upload=data["document"],
                request=request,
            )
        except CycleLocked as exc:
            return locked_page(request, cycle, exc)
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Evidence added.")
            return redirect("assessment:capability", cycle.pk, number)
    record = cycle.capabilities.get(capability=number)
    return _capability_page(request, cycle, cap, record, _record_form(cycle, cap, record), form, True, 400)


@require_POST
@permission_required(ACCESS, raise_exception=True)
@never_cache
def remove_evidence(request, cycle_id, evidence_id):
    cycle = cycle_for(request, cycle_id)
    item = get_object_or_404(Evidence, pk=evidence_id, assessment__cycle=cycle)
    try:
        services.remove_evidence(request.user, item, request=request)
    except NotAllowed:
        raise PermissionDenied from None
    except CycleLocked as exc:
        return locked_page(request, cycle, exc)
    messages.success(request, "Evidence removed.")
    return redirect("assessment:capability", cycle.pk, item.assessment.capability)


@permission_required(ACCESS, raise_exception=True)
@never_cache
def evidence_download(request, cycle_id, evidence_id):
    cycle = cycle_for(request, cycle_id)
    try:
        handle, item = services.open_document(request.user, cycle, evidence_id, request=request)
    except (Evidence.DoesNotExist, OSError, InvalidInput):
        raise Http404("No such document, or it is missing from storage") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=documents.download_name(item.title, item.content_type),
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@permission_required(ACCESS, raise_exception=True)
@never_cache
def comment(request, cycle_id):
    cycle = cycle_for(request, cycle_id)
    form = CommentForm(request.POST)
    number = None
    if form.is_valid():
        number = form.cleaned_data["capability"]
        if number is not None:
            _capability(cycle, number)
        try:
            services.add_comment(
                request.user, cycle, form.cleaned_data["text"], capability=number, request=request
            )
        except NotAllowed:
            raise PermissionDenied from None
        except CycleLocked as exc:
            return locked_page(request, cycle, exc)
        except InvalidInput as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Comment added.")
    else:
        messages.error(request, "Write the comment (at most 5000 characters).")
    if number is not None:
        return redirect("assessment:capability", cycle.pk, number)
    return redirect("assessment:dashboard", cycle.pk)


@permission_required(ACCESS, raise_exception=True)
@never_cache
def history(request, cycle_id):
    cycle = cycle_for(request, cycle_id)
    entries = cycle.history.select_related("actor").reverse()
    return render(
        request,
        "assessment/history.html",
        {"cycle": cycle, "entries": entries, "framework": framework_of(cycle)},
    )


EXPORT_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
}


@permission_required(EXPORT, raise_exception=True)
@step_up_required
@never_cache
def export(request, cycle_id, fmt):
    if fmt not in EXPORT_TYPES:
        raise Http404("No such export format")
    cycle = cycle_for(request, cycle_id)
    result = analysis.assess(cycle, with_evidence=True)
    renderers = {
        "pdf": lambda: pdf.render(result, signatures=signoff.signatures(cycle)),
        "csv": lambda: exports.to_csv(result).encode("utf-8"),
        "json": lambda: exports.to_json(result).encode("utf-8"),
    }
    try:
        body = services.export(request.user, cycle, fmt, renderers[fmt], request=request)
    except NotAllowed:
        raise PermissionDenied from None
    content_type, extension = EXPORT_TYPES[fmt]
    name = documents.safe_stem(f"mnr-assessment-{cycle.country}-{cycle.period_end:%Y-%m-%d}")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response
