"""Step-up: sensitive actions (revealing media, exports) need a second factor entered within the
last few minutes, not only at sign-in."""

import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "openmnr_second_factor_at"


def mark_second_factor(request) -> None:
    request.session[SESSION_KEY] = time.time()


def has_recent_second_factor(request) -> bool:
    at = request.session.get(SESSION_KEY)
    return at is not None and time.time() - at <= settings.STEP_UP_SECONDS


def step_up_redirect(request):
    """Where to send a request that needs a fresh second factor: the step-up page, coming back here.
    htmx and JSON callers get 403 with the address of the step-up page instead of a redirect."""
    next_url = (
        request.get_full_path() if request.method == "GET" else request.headers.get("Referer", "/staff/")
    )
    url = reverse("accounts:step-up") + "?" + urlencode({"next": next_url})
    if request.headers.get("HX-Request") or "json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": "step_up_required", "step_up_url": url}, status=403)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def step_up_required(view):
    """Send the user to re-enter their TOTP code when the last one is older than STEP_UP_SECONDS."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if has_recent_second_factor(request):
            return view(request, *args, **kwargs)
        return step_up_redirect(request)

    return wrapped
