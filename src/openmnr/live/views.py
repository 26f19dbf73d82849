"""The analysts' page of live alerts: a list that refreshes itself (htmx) and one page per alert.

By default no media exists to show: the monitor keeps no frame (docs/live.md), so an alert shows
the stream, the span and the bank entries with their classifications. When the operator turned the
reveal buffer on, an alert's sealed frames are shown blurred and grey, and sharp only after a
step-up reveal (``frames``: the rules, the audit, the expiry).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import cases, frames
from .models import LiveAlert, LiveAlertFrame
from .states import ALLOWED, State

PAGE = 100


def _alerts():
    return LiveAlert.objects.order_by("-raised_at")[:PAGE]


@permission_required("live.view_live_alerts", raise_exception=True)
@never_cache
def alerts_view(request):
    return render(request, "live/alerts.html", {"alerts": _alerts()})


@permission_required("live.view_live_alerts", raise_exception=True)
@never_cache
def alerts_rows_view(request):
    """The table body alone, fetched by htmx every few seconds."""
    return render(request, "live/_rows.html", {"alerts": _alerts()})


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=State.choices)
    note = forms.CharField(max_length=500, required=False)


@permission_required("live.view_live_alerts", raise_exception=True)
@never_cache
def alert_view(request, alert_id: int):
    alert = get_object_or_404(LiveAlert, pk=alert_id)
    moves = [State(state) for state in State.values if state in ALLOWED[alert.state]]
    return render(
        request,
        "live/alert.html",
        {
            "alert": alert,
            "moves": moves,
            "history": alert.history.select_related("by"),
            "frames": frames.current(alert),
            "revealed": frames.is_revealed(alert, request),
        },
    )


@require_POST
@permission_required("live.reveal_live_frames", raise_exception=True)
@step_up_required
def reveal_view(request, alert_id: int):
    alert = get_object_or_404(LiveAlert, pk=alert_id)
    try:
        frames.reveal_alert(alert, request)
    except frames.RevealError as error:
        messages.error(request, str(error))
    return redirect("live:alert", alert_id)


@require_POST
@permission_required("live.view_live_alerts", raise_exception=True)
def hide_view(request, alert_id: int):
    frames.hide(request)
    return redirect("live:alert", alert_id)


@never_cache
@permission_required("live.view_live_alerts", raise_exception=True)
def frame_view(request, alert_id: int, frame_id: int):
    """One buffered frame as JPEG: blurred unless this session revealed the alert."""
    frame = get_object_or_404(LiveAlertFrame.objects.select_related("alert"), pk=frame_id, alert_id=alert_id)
    try:
        data = frames.image(frame, request)
    except frames.RevealError:
        raise Http404("No such frame") from None
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response


@require_POST
@permission_required("live.work_live_alerts", raise_exception=True)
def transition_view(request, alert_id: int):
    get_object_or_404(LiveAlert, pk=alert_id)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what the alert becomes.")
        return redirect("live:alert", alert_id)
    try:
        cases.transition(alert_id, form.cleaned_data["to"], by=request.user, note=form.cleaned_data["note"],
                         request=request)  # fmt: skip
    except cases.TransitionNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Saved.")
    return redirect("live:alert", alert_id)
