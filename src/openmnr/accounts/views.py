"""Sign-in, second-factor enrolment, step-up, sign-out and API keys. Thin: the work is in
signin.py and apikeys.py."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required, permission_required
from django.contrib.auth.models import Permission
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.audit import services as audit

from . import apikeys, resets, signin, stepup
from .forms import ApiKeyForm, SignInForm, TokenForm
from .middleware import second_factor_not_required
from .models import ApiKey
from .roles import api_role_names, may_use_staff_site
from .stepup import mark_second_factor, step_up_required
from .totp import qr_svg


def _safe_next(request, default="staff-home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_not_required
@never_cache
def sign_in_view(request):
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = signin.sign_in(request, data["username"], data["password"], data["token"])
        if result.ok:
            return redirect("accounts:enrol" if result.needs_enrolment else _safe_next(request))
        error = result.error
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "error": error, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
@second_factor_not_required
def sign_out_view(request):
    logout(request)
    return redirect("landing")


@second_factor_not_required
@never_cache
def enrol_view(request):
    """First sign-in, or after an administrator's reset: show a new TOTP secret as a QR code and
    confirm it with one code.

    Only staff roles enrol (API-only accounts use keys). Each visit draws a new secret, so a
    secret is shown once, to the signed-in owner, and never again once confirmed; administrators
    never see it (the administration site hides it)."""
    user = request.user
    if not may_use_staff_site(user):
        audit.record("second_factor.enrol", request=request, obj=user, outcome=audit.DENIED)
        logout(request)
        return render(request, "accounts/api_only.html", status=403)
    if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        # The user has a device but this session never passed it: start again at sign-in.
        logout(request)
        return redirect("accounts:sign-in")
    if request.method == "POST":
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    else:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = None
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                resets.mark_notices_read(user)
                audit.record("second_factor.enrol", request=request, obj=user)
            otp_login(request, device)
            mark_second_factor(request)
            return redirect("staff-home")
        error = "That code is not right. Check the time on your phone and try the next code."
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "error": error,
            "qr": qr_svg(device.config_url),
            "uri": device.config_url,
            "notices": resets.unread_notices(user),
        },
        status=400 if error else 200,
    )


@permission_required("accounts.access_staff_home", raise_exception=True)
@never_cache
def step_up_view(request):
    form = TokenForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        device = request.user.otp_device
        wait = signin.code_wait_seconds(device) if device is not None else 0
        if wait:
            error = signin.wait_message(wait)
        elif signin.verify_again(request, form.cleaned_data["token"]):
            audit.record("step_up", request=request, obj=request.user)
            return stepup.resume(request, _safe_next(request))
        else:
            audit.record("step_up", request=request, obj=request.user, outcome=audit.FAILURE)
            error = "That code is not right. Enter the code your app shows now."
    return render(
        request,
        "accounts/step_up.html",
        {
            "form": form,
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "resume": request.POST.get("resume") or request.GET.get("resume", ""),
        },
        status=400 if error else 200,
    )


def _scope_choices():
    perms = (
        Permission.objects.filter(group__name__in=api_role_names())
        .select_related("content_type")
        .distinct()
        .order_by("content_type__app_label", "codename")
    )
    return [(f"{p.content_type.app_label}.{p.codename}", p.name) for p in perms]


NEW_KEY_SESSION = "openmnr_new_api_key"


@permission_required("accounts.manage_api_keys", raise_exception=True)
@never_cache
def api_keys_view(request):
    if request.method == "POST":
        return _issue_api_key(request)
    # Shown once: the key issued by the POST that redirected here, then gone from the session.
    new_key_text = request.session.pop(NEW_KEY_SESSION, "")
    return _api_keys_page(request, ApiKeyForm(scope_choices=_scope_choices()), new_key_text)


@step_up_required
def _issue_api_key(request):
    """Issue, then redirect (POST-redirect-GET): reloading the page shows the list, and never
    issues a second key."""
    form = ApiKeyForm(request.POST, scope_choices=_scope_choices())
    if form.is_valid():
        data = form.cleaned_data
        try:
            key, new_key_text = apikeys.create_api_key(
                owner=data["owner"],
                name=data["name"],
                scopes=data["scopes"],
                rate_limit_per_minute=data["rate_limit_per_minute"],
                created_by=request.user,
                request=request,
            )
        except apikeys.ApiKeyError as exc:
            form.add_error(None, str(exc))
        else:
            request.session[NEW_KEY_SESSION] = new_key_text
            messages.success(request, f"Key {key.prefix} issued to {key.owner.get_username()}.")
            return redirect("accounts:api-keys")
    return _api_keys_page(request, form)


def _api_keys_page(request, form, new_key_text=""):
    keys = ApiKey.objects.select_related("owner").order_by("-created_at")
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "keys": keys, "new_key_text": new_key_text},
        status=400 if form.errors else 200,
    )


@require_POST
@permission_required("accounts.manage_api_keys", raise_exception=True)
@step_up_required
def api_key_revoke_view(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id)
    apikeys.revoke_api_key(key, revoked_by=request.user, request=request)
    messages.success(request, f"Key {key.prefix} revoked.")
    return redirect("accounts:api-keys")
