from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from . import services
from .models import AuditEvent


@permission_required("audit.view_audit_log", raise_exception=True)
def audit_log(request):
    events = AuditEvent.objects.order_by("-seq")
    if action := request.GET.get("action", "").strip():
        events = events.filter(action=action)
    if actor := request.GET.get("actor", "").strip():
        events = events.filter(actor=actor)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    verification = services.verify() if request.GET.get("verify") else None
    return render(
        request,
        "audit/log.html",
        {"page": page, "verification": verification, "action": action, "actor": actor},
    )
