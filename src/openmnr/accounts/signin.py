"""Sign-in with password and TOTP in one step, throttled per (username, client address).

The throttle counts an attempt before anything is checked, in one atomic update, and refuses
without checking once the count passes the limit: so parallel attempts cannot reach the slow
password hash more than ``SIGN_IN_MAX_FAILURES`` times per window, however many arrive at once. A
successful sign-in clears the count.

A wrong authenticator code also makes the device itself wait before it checks another (django-otp's
throttling: 1, 2, 4, 8... seconds). While it waits even the right code is refused, so the page says
so and for how long, instead of the generic message that would make a right code look wrong. It
says so only after the right password: a guesser without it learns nothing new, and one with it
still needs the code (the trade-off is in docs/decisions/0011-staff-pages.md).

Only staff roles sign in (``roles.may_use_staff_site``): an industry member's or partner hotline's
account uses API keys only, and its correct password is refused with the same message as a wrong
one (the audit log says why).
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, login, user_login_failed
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.common.request import client_address

from . import ratelimit
from .middleware import SIGNED_IN_AT
from .roles import may_use_staff_site
from .stepup import mark_second_factor


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    needs_enrolment: bool = False
    error: str = ""


GENERIC_ERROR = "The username, password or code is not right."


def code_wait_seconds(device) -> int:
    """Seconds before ``device`` checks a code again after wrong ones (0: it checks now)."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or "locked_until" not in data:
        return 0
    return max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))


def wait_message(seconds: int) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return (
        f"A wrong code was entered just before, so codes are not checked for {seconds} {unit}. "
        "Wait, then enter the code your app shows at that moment."
    )


def _throttle_key(request, username: str) -> str:
    return f"sign-in:{username.lower()}:{client_address(request)}"


def _failed(request, username: str, reason: str) -> SignInResult:
    user_login_failed.send(
        sender=__name__, credentials={"username": username}, request=request, reason=reason
    )
    return SignInResult(False, error=GENERIC_ERROR)


def sign_in(request, username: str, password: str, token: str) -> SignInResult:
    key = _throttle_key(request, username)
    limit, window = settings.SIGN_IN_MAX_FAILURES, settings.SIGN_IN_COOL_OFF_SECONDS
    if not ratelimit.hit(key, limit, window):
        minutes = max(1, round(ratelimit.exceeded(key, limit) / 60))
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=request, reason="throttled"
        )
        return SignInResult(False, error=f"Too many failed attempts. Try again in about {minutes} minutes.")

    user = authenticate(request, username=username, password=password)
    if user is None:  # authenticate() has sent user_login_failed, which the audit log records
        return SignInResult(False, error=GENERIC_ERROR)
    if not may_use_staff_site(user):
        return _failed(request, username, "not a staff account")

    devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    if not devices:
        ratelimit.clear(key)
        _start_session(request, user)
        return SignInResult(True, needs_enrolment=True)

    waits = [code_wait_seconds(d) for d in devices]
    if min(waits) > 0:
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=request, reason="code throttled"
        )
        return SignInResult(False, error=wait_message(min(waits)))
    device = next((d for d in devices if d.verify_token(token.strip().replace(" ", ""))), None)
    if device is None:
        return _failed(request, username, "second factor")

    ratelimit.clear(key)
    _start_session(request, user)
    otp_login(request, device)
    mark_second_factor(request)
    return SignInResult(True)


def _start_session(request, user) -> None:
    login(request, user)
    request.session[SIGNED_IN_AT] = time.time()


def verify_again(request, token: str) -> bool:
    """Step-up: check a fresh TOTP code from the signed-in user's own device."""
    device = request.user.otp_device
    if device is None or not device.verify_token(token.strip().replace(" ", "")):
        return False
    mark_second_factor(request)
    return True
