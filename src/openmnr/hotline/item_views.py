"""The pages of one media item: the protective viewer (thumbnail, reveal after step-up, hide) and the
item's classification, with the proposal of its hash values to a bank.

Thin, as views.py: each view checks permission and calls one function of viewer.py or assess.py.
Media leave only through `private`, so no cache keeps them; a thumbnail is answered by
`thumbnail_response`, also for law enforcement's held-case pages (held_views.py), which check
first that the item belongs to a held case.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import assess, viewer
from .errors import HotlineError
from .forms import ClassificationForm, ProposeForm
from .models import MediaItem
from .views import back_to_case, exposure


def private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


def thumbnail_response(item_id: int) -> HttpResponse:
    """The item's blurred thumbnail, or 404 when it has none (or the item is unknown)."""
    try:
        data = viewer.thumbnail_bytes(item_id)
    except HotlineError:
        data = None
    if data is None:
        raise Http404("No thumbnail")
    return private(HttpResponse(data, content_type="image/jpeg"))


@permission_required("hotline.work_queue", raise_exception=True)
@never_cache
def item_view(request, item_id: int):
    item = get_object_or_404(MediaItem.objects.select_related("case"), pk=item_id)
    return _item_page(request, item)


def _item_page(request, item, form=None, status=200):
    """The item page; `form` bound to what the analyst sent when it is shown again after an error."""
    shown = viewer.current(request.user)
    held = item.case.assessable_by(request.user)
    if held and form is None:
        form = ClassificationForm.for_item(item)
    return render(
        request,
        "hotline/item.html",
        {
            "item": item,
            "case": item.case,
            "held": held,
            "revealed": shown is not None and shown.item_id == item.pk,
            "form": form if held else None,
            "propose_form": _propose_form(request, item),
            **exposure(request),
        },
        status=status,
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
    item = get_object_or_404(MediaItem.objects.select_related("case"), pk=item_id)
    form = ClassificationForm.for_item(item, request.POST)
    if form.is_valid():
        try:
            assess.classify_item(item_id, request.user, form.classification(), request=request)
            viewer.hide(request.user)
            messages.success(request, f"Item {item.position + 1} classified.")
            return back_to_case(item.case_id)
        except HotlineError as exc:
            form.add_error(None, str(exc))
    return _item_page(request, item, form=form, status=400)


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


@permission_required("hotline.reveal_media", raise_exception=True)
def media_view(request, item_id: int):
    try:
        data, media_type = viewer.revealed_bytes(item_id, request.user)
    except HotlineError:
        raise Http404("Not revealed") from None
    return private(HttpResponse(data, content_type=media_type))


@permission_required("hotline.work_queue", raise_exception=True)
def thumbnail_view(request, item_id: int):
    return thumbnail_response(item_id)
