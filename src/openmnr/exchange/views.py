"""Exchange pages: what came in and went out, what waits or failed, and an administrator's retry or
dismissal of a message. Thin: reading is a few queries, acting is outbox.py."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import config, outbox, sync
from .models import ItemError, NetworkEvent, NetworkItem, OutboxRow, Partner, RowState


@never_cache
@permission_required("exchange.view_exchange", raise_exception=True)
def dashboard_view(request):
    counts = {state: OutboxRow.objects.filter(state=state).count() for state in RowState.values}
    attention = OutboxRow.objects.filter(state__in=(RowState.FAILED, RowState.UNCERTAIN)).select_related(
        "partner"
    )
    try:
        own_key = config.own_key_id()
    except config.NotConfigured as exc:
        own_key = f"not available: {exc}"
    return render(
        request,
        "exchange/dashboard.html",
        {
            "iccam_configured": config.iccam_configured(),
            "iccam_country": config.iccam_country(),
            "state": sync.status(),
            "counts": [(RowState(state).label, state, count) for state, count in counts.items()],
            "attention": attention.order_by("-last_attempt_at", "-pk")[:100],
            "pending": OutboxRow.objects.filter(state=RowState.PENDING).select_related("partner")[:100],
            "item_errors": ItemError.objects.all()[:100],
            "imported": NetworkItem.objects.select_related("case")[:100],
            "partners": Partner.objects.all(),
            "events": NetworkEvent.objects.order_by("-at", "-pk")[:50],
            "own_key": own_key,
            "can_manage": request.user.has_perm("exchange.manage_exchange"),
        },
    )


def _decide(request, row_id: int, action, done: str):
    try:
        action(row_id, request.user, request=request)
        messages.success(request, done)
    except outbox.OutboxError as exc:
        messages.error(request, str(exc))
    return redirect("exchange:dashboard")


@require_POST
@permission_required("exchange.manage_exchange", raise_exception=True)
def retry_view(request, row_id: int):
    return _decide(request, row_id, outbox.retry, "The message will be sent again in the next cycle.")


@require_POST
@permission_required("exchange.manage_exchange", raise_exception=True)
def dismiss_view(request, row_id: int):
    return _decide(request, row_id, outbox.dismiss, "The message was dismissed.")


@never_cache
@permission_required("exchange.view_exchange", raise_exception=True)
def public_key_view(request):
    """Our federation public key, to give to a partner."""
    try:
        pem = config.own_public_key_pem()
    except config.NotConfigured as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="federation-public-key.pem"'
    return response
