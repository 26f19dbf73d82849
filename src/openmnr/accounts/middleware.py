"""Session and second-factor rules applied to every staff request."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control

SIGNED_IN_AT = "openmnr_signed_in_at"


class SessionLifetimeMiddleware:
    """End a session 12 hours after sign-in whatever its activity (the 30-minute inactivity limit
    is SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            if started is None or time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)


def second_factor_not_required(view):
    """Mark a view that a signed-in user may reach before the second factor (enrolment, sign-out)."""
    view.second_factor_required = False
    return view


class SecondFactorMiddleware:
    """Every page behind sign-in also needs a verified TOTP device.

    Runs after Django's LoginRequiredMiddleware, so a view reaching here is either public
    (`login_not_required`) or has a signed-in user; that user must have passed the second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        if not getattr(view_func, "second_factor_required", True):
            return None
        if request.user.is_authenticated and not request.user.is_verified():
            return redirect("accounts:enrol")
        return None


class NoStoreMiddleware:
    """Every response the application writes carries ``Cache-Control: no-store, private``.

    Staff pages, API answers and downloads (evidence, exports, referral packages) must never be
    kept by a browser's cache, a shared proxy or a CDN; rather than a list of views that would miss
    the next one, every response gets it, public pages too (they are not worth caching: the report
    form carries a CSRF token). Static files are served before this middleware runs (WhiteNoise)
    and keep their long cache lifetimes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
