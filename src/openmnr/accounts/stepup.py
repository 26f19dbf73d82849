"""Step-up: sensitive actions (revealing media, exports) need a second factor entered within the
last few minutes, not only at sign-in.

An action asked for by GET simply comes back to its address. An action asked for by a form (POST)
is kept in the session, its fields without the CSRF token and without files, under a random name
that travels with the step-up page; once the code is right, ``resume`` answers with that same form,
ready to send again to the same address, and a small script sends it at once (so the analyst who
pressed "Reveal" lands on the revealed picture). The action is sent again by the browser, through
the view's own permission, CSRF and state checks: nothing is replayed on the server's authority,
and a kept action older than the step-up window, or one with files, is dropped and the user lands
back on the page they came from. Without JavaScript the form waits for one click.
"""

import secrets
import time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "openmnr_second_factor_at"
PENDING_KEY = "openmnr_step_up_pending"


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
    query = {"next": next_url}
    machine = request.headers.get("HX-Request") or "json" in request.headers.get("Accept", "")
    if request.method == "POST" and not request.FILES and not machine:
        query["resume"] = _keep_pending(request)
    url = reverse("accounts:step-up") + "?" + urlencode(query)
    if machine:
        response = JsonResponse({"error": "step_up_required", "step_up_url": url}, status=403)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _keep_pending(request) -> str:
    name = secrets.token_urlsafe(12)
    fields = [
        [key, value]
        for key in request.POST
        for value in request.POST.getlist(key)
        if key != "csrfmiddlewaretoken"
    ]
    request.session[PENDING_KEY] = {"name": name, "path": request.path, "fields": fields, "at": time.time()}
    return name


def resume(request, next_url: str):
    """After a right code: the kept action, ready to send again (see the module docstring), when
    the step-up page carried its name; otherwise back to ``next_url``."""
    pending = request.session.pop(PENDING_KEY, None)
    name = request.POST.get("resume", "")
    if (
        pending
        and name
        and secrets.compare_digest(name, pending["name"])
        and time.time() - pending["at"] <= settings.STEP_UP_SECONDS
        and url_has_allowed_host_and_scheme(pending["path"], {request.get_host()})
    ):
        return render(
            request,
            "accounts/step_up_resume.html",
            {"action": pending["path"], "fields": pending["fields"], "back": next_url},
        )
    return redirect(next_url)


def step_up_required(view):
    """Send the user to re-enter their TOTP code when the last one is older than STEP_UP_SECONDS."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if has_recent_second_factor(request):
            return view(request, *args, **kwargs)
        return step_up_redirect(request)

    return wrapped
