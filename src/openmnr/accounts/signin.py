"""Sign-in with password and TOTP in one step, throttled per (username, client address)."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import authenticate, login, user_login_failed
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.common.request import client_address

from . import ratelimit
from .middleware import SIGNED_IN_AT
from .stepup import mark_second_factor


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    needs_enrolment: bool = False
    error: str = ""


GENERIC_ERROR = "The username, password or code is not right."


def _throttle_key(request, username: str) -> str:
    return f"sign-in:{username.lower()}:{client_address(request)}"


def sign_in(request, username: str, password: str, token: str) -> SignInResult:
    key = _throttle_key(request, username)
    wait = ratelimit.exceeded(key, settings.SIGN_IN_MAX_FAILURES, settings.SIGN_IN_COOL_OFF_SECONDS)
    if wait:
        minutes = max(1, round(wait / 60))
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=request, reason="throttled"
        )
        return SignInResult(False, error=f"Too many failed attempts. Try again in about {minutes} minutes.")

    user = authenticate(request, username=username, password=password)
    if user is None:  # authenticate() has sent user_login_failed, which the audit log records
        ratelimit.hit(key, settings.SIGN_IN_MAX_FAILURES, settings.SIGN_IN_COOL_OFF_SECONDS)
        return SignInResult(False, error=GENERIC_ERROR)

    devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True))
    if not devices:
        _start_session(request, user)
        return SignInResult(True, needs_enrolment=True)

    device = next((d for d in devices if d.verify_token(token.strip().replace(" ", ""))), None)
    if device is None:
        ratelimit.hit(key, settings.SIGN_IN_MAX_FAILURES, settings.SIGN_IN_COOL_OFF_SECONDS)
        user_login_failed.send(
            sender=__name__, credentials={"username": username}, request=request, reason="second factor"
        )
        return SignInResult(False, error=GENERIC_ERROR)

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
