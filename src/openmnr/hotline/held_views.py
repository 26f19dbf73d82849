"""Law enforcement's pages: the cases held for the police, one held case (blurred, through the
protective viewer), and the answer to it: release or keep.

Thin, as views.py: each answer is one call of holds.py. A release goes through `_answer`, which
turns a refusal into a message on the queue; a kept hold's refusal is the form's own error (its
reason and date stay filled in). A law-enforcement user sees held cases only: a case that is not
held is 404 here, whatever its id. The held case's page says where its referral package is (the
takedown app's referrals page, when installed).
"""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import holds
from .errors import HotlineError
from .forms import KeepHoldForm, ReleaseHoldForm
from .item_views import thumbnail_response
from .models import Case, MediaItem
from .states import State


def _answer(request, action, done: str) -> HttpResponse | None:
    """Run one answer to a hold; None (after a success message) when it went through, else the
    refusal as an error message and the way back to the queue."""
    try:
        action()
    except HotlineError as exc:
        messages.error(request, str(exc))
        return redirect("hotline:holds")
    messages.success(request, done)
    return None


# Law enforcement: the cases held for the police, and the answer to each.


@permission_required("hotline.answer_hold", raise_exception=True)
def holds_view(request):
    return render(request, "hotline/holds.html", {"cases": holds.held_cases()[:200]})


@permission_required("hotline.answer_hold", raise_exception=True)
def hold_view(request, case_id: int, keep_form=None, status=200):
    case = get_object_or_404(Case, pk=case_id, state=State.HELD)
    return render(
        request,
        "hotline/hold.html",
        {
            "case": case,
            "items": case.items.all(),
            "keep_form": keep_form or KeepHoldForm(),
            "release_form": ReleaseHoldForm(),
        },
        status=status,
    )


@require_POST
@permission_required("hotline.answer_hold", raise_exception=True)
def hold_release_view(request, case_id: int):
    form = ReleaseHoldForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    refused = _answer(
        request,
        lambda: holds.release(case_id, request.user, reason=reason, request=request),
        f"Case {case_id} released: notices to the host may start.",
    )
    return refused or redirect("hotline:holds")


@require_POST
@permission_required("hotline.answer_hold", raise_exception=True)
def hold_keep_view(request, case_id: int):
    form = KeepHoldForm(request.POST)
    if form.is_valid():
        review = form.cleaned_data["review_at"]
        review_at = timezone.make_aware(datetime.combine(review, time(9, 0)))
        try:
            holds.keep(
                case_id,
                request.user,
                reason=form.cleaned_data["reason"],
                review_at=review_at,
                request=request,
            )
            messages.success(request, f"Case {case_id} stays on hold until {review:%Y-%m-%d}.")
            return redirect("hotline:holds")
        except HotlineError as exc:
            form.add_error(None, str(exc))
    return hold_view(request, case_id, keep_form=form, status=400)


@permission_required("hotline.answer_hold", raise_exception=True)
def held_thumbnail_view(request, item_id: int):
    """The blurred thumbnail of an item of a held case: law enforcement sees held cases only, and
    only through the protective viewer."""
    if not MediaItem.objects.filter(pk=item_id, case__state=State.HELD).exists():
        raise Http404("No thumbnail")
    return thumbnail_response(item_id)
