"""The analysts' page of live alerts: a list that refreshes itself (htmx) and one page per alert.

No media is shown: the monitor keeps no frame (docs/live.md), so an alert shows the stream, the
span and the bank entries with their classifications.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import cases
from .models import LiveAlert
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
        {"alert": alert, "moves": moves, "history": alert.history.select_related("by")},
    )


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
