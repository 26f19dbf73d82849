"""An administrator resets another user's password or second factor.

This is the one way an administrator could act as someone else: set an analyst's password, enrol a
new authenticator in their name, and sign in as them. It cannot be forbidden outright (people lose
phones and forget passwords), so it is made loud and expensive instead, in one function that every
path (the administration site's password form, its "reset second factor" button) goes through:

- the administrator must have entered a fresh TOTP code (step-up, checked by the views);
- every reset removes the user's second factor, so the next sign-in must enrol again, and ends
  every session the user has open;
- it is audited (who reset whom, what) in the same transaction;
- the user is told: an ``AccountNotice`` shown on the enrolment page the reset sends them to, and
  an e-mail to the account's address when it has one, sent after the commit.

Administrators never see second-factor secrets (the administration site hides them), so a reset is
the only way to another user's second factor, and it is never silent.
"""

import logging

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.audit import services as audit
from openmnr.common.failures import failure

from .models import AccountNotice

logger = logging.getLogger(__name__)


class ResetRefused(Exception):
    """The caller may not reset this account's credentials."""


def reset_credentials(
    user, *, by, password: str | None = None, unusable_password: bool = False, request=None
):
    """Set `user`'s password (when `password` is given, or make it unusable), remove their second
    factor, end their sessions, audit it and tell them. `by` needs ``accounts.manage_users``."""
    if not by.has_perm("accounts.manage_users"):
        raise ResetRefused("only an administrator may reset another user's credentials")
    changed_password = password is not None or unusable_password
    with transaction.atomic():
        if password is not None:
            user.set_password(password)
        elif unusable_password:
            user.set_unusable_password()
        if changed_password:
            user.save(update_fields=["password"])
        devices = TOTPDevice.objects.filter(user=user).delete()[0]
        sessions = end_sessions(user)
        what = "password and second factor" if changed_password else "second factor"
        text = (
            f"Administrator {by.get_username()} reset your {what}. You must set up your authenticator "
            "again. If you did not ask for this, tell your security contact now: the audit log records "
            "who did it and when."
        )
        AccountNotice.objects.create(user=user, text=text)
        audit.record(
            "account.reset",
            request=request,
            actor=by,
            obj=user,
            detail={
                "user": user.get_username(),
                "password": changed_password,
                "second_factor_devices_removed": devices,
                "sessions_ended": sessions,
                "emailed": bool(user.email),
            },
        )
        if user.email:
            transaction.on_commit(lambda: _email(user.email, text))


def end_sessions(user) -> int:
    """Delete every stored session signed in as `user`; returns how many."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
            ended += 1
    return ended


def _email(address: str, text: str) -> None:
    try:
        send_mail(
            "Your OpenMNR account was reset",
            text,
            settings.ACCOUNTS_FROM_EMAIL,
            [address],
        )
    except Exception as exc:  # the notice on the enrolment page and the audit event remain
        logger.error("could not e-mail the account-reset notice: %s", failure(exc))


def unread_notices(user):
    return AccountNotice.objects.filter(user=user, read_at__isnull=True)


def mark_notices_read(user) -> None:
    unread_notices(user).update(read_at=timezone.now())
