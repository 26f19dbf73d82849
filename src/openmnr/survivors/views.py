"""The public Take it down pages. Thin: each parses its input and calls one service function.

The page itself runs the hashing in the browser (static/survivors/*.js) and posts JSON with hashes
only (``open_view``, ``add_items_view``): those endpoints take ``application/json`` and nothing
else, so a file cannot be sent to them even by mistake. The status, add and withdraw pages are
plain forms that work without JavaScript. Every response is ``no-store``: a code or a status
page must not stay in a shared phone's cache.
"""

import json
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import cases, contact, intake
from .errors import SurvivorError, TooMany
from .states import CaseState


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Your code"),
        help_text=gettext_lazy("The 20 letters and digits you were given, for example 7KQ2-M9XD-…"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )


def public(view):
    return login_not_required(never_cache(view))


def _json_error(error: SurvivorError) -> JsonResponse:
    return JsonResponse({"error": error.code, "detail": str(error)}, status=error.status)


def json_endpoint(view):
    """A POST of application/json from the page's script; refusals as typed JSON errors."""

    @wraps(view)
    def wrapped(request):
        if request.content_type != "application/json":
            return JsonResponse(
                {"error": "unsupported_media_type", "detail": "send the hashes as application/json"},
                status=415,
            )
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return JsonResponse({"error": "invalid_input", "detail": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return JsonResponse(
                {"error": "invalid_input", "detail": "the body must be a JSON object"}, status=400
            )
        try:
            return view(request, body)
        except SurvivorError as error:
            return _json_error(error)

    return public(require_POST(wrapped))


def _receipt(receipt, status: int) -> JsonResponse:
    return JsonResponse(
        {
            "code": receipt.code,
            "items": [
                {"kind": i.kind, "state": i.state, "pdq_refused": i.pdq_refused} for i in receipt.items
            ],
            "duplicates": receipt.duplicates,
        },
        status=status,
    )


@public
@require_http_methods(["GET"])
def page_view(request):
    return render(request, "survivors/page.html", {"contact_enabled": contact.enabled(), "add_code": ""})


@json_endpoint
def open_view(request, body):
    receipt = intake.open_case(
        body.get("items"),
        pictured=body.get("pictured") is True,
        under_18=body.get("under_18") is True,
        email=body.get("email") if isinstance(body.get("email"), str) else "",
        request=request,
    )
    return _receipt(receipt, 201)


@json_endpoint
def add_items_view(request, body):
    code = body.get("code") if isinstance(body.get("code"), str) else ""
    return _receipt(intake.add_items(code, body.get("items"), request=request), 200)


def _status_page(request, form, *, status=None, error="", http_status=200, code=""):
    return render(
        request,
        "survivors/status.html",
        {"form": form, "status": status, "error": error, "code": code},
        status=http_status,
    )


@public
@require_http_methods(["GET", "POST"])
def status_view(request):
    form = CodeForm(request.POST or None)
    if request.method == "GET" or not form.is_valid():
        return _status_page(request, form, http_status=400 if form.errors else 200)
    try:
        found = cases.status(form.cleaned_data["code"], request=request)
    except SurvivorError as error:
        return _refused(request, form, error)
    return _status_page(request, CodeForm(), status=found, code=form.cleaned_data["code"].strip().upper())


def _refused(request, form, error: SurvivorError):
    if isinstance(error, TooMany):
        return render(request, "survivors/too_many.html", {"detail": str(error)}, status=429)
    return _status_page(request, form, error=str(error), http_status=error.status)


@public
@require_POST
def add_view(request):
    """The page again, adding to the case whose code was just entered on the status page."""
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _status_page(request, form, http_status=400)
    try:
        found = cases.status(form.cleaned_data["code"], request=request)
    except SurvivorError as error:
        return _refused(request, form, error)
    if found.state != CaseState.OPEN:
        return _status_page(
            request,
            CodeForm(),
            status=found,
            error=_("This case was withdrawn or closed. To take down more pictures, start a new case."),
            http_status=409,
        )
    context = {"contact_enabled": False, "add_code": form.cleaned_data["code"].strip().upper()}
    return render(request, "survivors/page.html", context)


@public
@require_POST
def withdraw_view(request):
    """Withdraw with the code: a confirmation page first, then the withdrawal."""
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _status_page(request, form, http_status=400)
    code = form.cleaned_data["code"].strip().upper()
    if request.POST.get("confirm") != "yes":
        return render(request, "survivors/withdraw.html", {"code": code})
    try:
        cases.withdraw(code, request=request)
    except SurvivorError as error:
        return _refused(request, form, error)
    return render(request, "survivors/withdrawn.html")
