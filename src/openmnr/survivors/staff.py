"""Staff pages of the survivors app: activity (floods), held pictures, one item, and the actions on
them. Thin: permission, input, one service call; the work is in review.py and cases.py."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import activity, cases, review
from .errors import SurvivorError
from .models import Case, Item, Tally
from .states import CaseState, ItemState


class ProposeForm(forms.Form):
    bank = forms.ModelChoiceField(queryset=None, label="Bank of confirmed CSAM")
    classification = forms.ChoiceField(
        choices=[("baseline", "Baseline"), ("nationally_illegal", "Nationally illegal")]
    )
    category = forms.CharField(max_length=64, required=False)
    evidence_kind = forms.ChoiceField(
        label="Seen in", choices=[("hotline", "a hotline case"), ("industry", "an industry report")]
    )
    evidence_ref = forms.CharField(label="Case number or report reference", max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = review.confirmed_banks(user)


@permission_required("survivors.view_activity", raise_exception=True)
@never_cache
def activity_view(request):
    hours = activity.recent_hours(48)
    kinds = Tally.Kind.values
    rows = [{"hour": h.hour, "flood": h.flood, "counts": [h.counts[k] for k in kinds]} for h in hours]
    last_day = [sum(h.counts[kind] for h in hours[:24]) for kind in kinds]
    states = dict(Case.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    return render(
        request,
        "survivors/staff/activity.html",
        {
            "hours": rows,
            "labels": Tally.Kind.labels,
            "last_day": last_day,
            "items_last_hour": activity.items_last_hour(),
            "flood_threshold": settings.SURVIVORS_FLOOD_ITEMS_PER_HOUR,
            "flooding": activity.flooding(),
            "held": review.held_items().count(),
            "open_cases": states.get(CaseState.OPEN, 0),
            "withdrawn_cases": states.get(CaseState.WITHDRAWN, 0),
            "closed_cases": states.get(CaseState.CLOSED, 0),
            "now": timezone.now(),
        },
    )


@permission_required("survivors.review_items", raise_exception=True)
@never_cache
def held_view(request):
    return render(request, "survivors/staff/held.html", {"items": review.held_items()[:200]})


@permission_required("survivors.review_items", raise_exception=True)
@never_cache
def lookup_view(request):
    """Find the survivors' items behind a bank entry (seen matched in the hotline, say)."""
    entry = request.GET.get("entry", "").strip().removeprefix("#")
    items = review.items_for_entry(int(entry)) if entry.isdigit() else Item.objects.none()
    if entry.isdigit() and len(items) == 1:
        return redirect("survivors:item", item_id=items[0].pk)
    return render(request, "survivors/staff/lookup.html", {"entry": entry, "items": items})


@permission_required("survivors.review_items", raise_exception=True)
@never_cache
def item_view(request, item_id: int):
    item = get_object_or_404(Item.objects.select_related("case", "reviewed_by", "proposed_by"), pk=item_id)
    signals = [
        {"signal_type": s.signal_type, "masked": banks_mask(s.value), "entry_id": s.entry_id}
        for s in item.signals.order_by("signal_type")
    ]
    return render(
        request,
        "survivors/staff/item.html",
        {
            "item": item,
            "signals": signals,
            "status": cases.status_of(item.case),
            "outcomes": item.outcomes.select_related("reported_by").order_by("-reported_at")[:50],
            "propose_form": ProposeForm(user=request.user) if item.state == ItemState.ACTIVE else None,
            "can_close": request.user.has_perm("survivors.close_case") and item.case.state == CaseState.OPEN,
        },
    )


def banks_mask(value: str) -> str:
    """The first 8 hex digits, as the banks' pages show values; never the whole hash."""
    return value[:8] + "…" if value else "erased"


def _act(request, item_id: int, action, success: str):
    try:
        action()
    except Item.DoesNotExist as error:
        raise Http404("no such item") from error
    except SurvivorError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect("survivors:item", item_id=item_id)


@require_POST
@permission_required("survivors.review_items", raise_exception=True)
def release_view(request, item_id: int):
    return _act(
        request,
        item_id,
        lambda: review.release(item_id, by=request.user, request=request),
        "Released: its hashes are in the self-reported bank.",
    )


@require_POST
@permission_required("survivors.review_items", raise_exception=True)
def reject_view(request, item_id: int):
    return _act(
        request,
        item_id,
        lambda: review.reject(item_id, by=request.user, note=request.POST.get("note", ""), request=request),
        "Rejected: it stays out of matching.",
    )


@require_POST
@permission_required("survivors.review_items", raise_exception=True)
def propose_view(request, item_id: int):
    form = ProposeForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose the bank and classification, and say where the content was seen.")
        return redirect("survivors:item", item_id=item_id)
    data = form.cleaned_data
    return _act(
        request,
        item_id,
        lambda: review.propose_confirmation(
            item_id,
            bank=data["bank"],
            classification=data["classification"],
            category=data["category"],
            evidence_kind=data["evidence_kind"],
            evidence_ref=data["evidence_ref"],
            by=request.user,
            request=request,
        ),
        "Proposed: two senior analysts confirm it in the banks' confirmation queue.",
    )


@require_POST
@permission_required("survivors.close_case", raise_exception=True)
def close_view(request, case_id: int):
    case = get_object_or_404(Case, pk=case_id)
    item = case.items.order_by("pk").first()
    try:
        cases.close(case.pk, by=request.user, reason=request.POST.get("reason", ""), request=request)
    except SurvivorError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Case {case.pk} closed; its pictures left matching.")
    return redirect("survivors:item", item_id=item.pk) if item else redirect("survivors:held")
