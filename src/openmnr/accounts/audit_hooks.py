"""Audit sign-ins, sign-outs and every change of role or permission, wherever it is made."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed

from openmnr.audit import services as audit


def _signed_in(sender, request, user, **kwargs):
    audit.record("sign_in", request=request, actor=user, obj=user)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        "sign_in",
        request=request,
        outcome=audit.FAILURE,
        object_type="auth.user",
        detail={"username": username, "reason": kwargs.get("reason", "password")},
    )


def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record("sign_out", request=request, actor=user, obj=user)


def _membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:  # add() of a membership that already existed
        return
    detail = {"change": action.removeprefix("post_"), "ids": sorted(pk_set or [])}
    if sender is get_user_model().groups.through:
        audit.record("role.change", obj=instance, detail=detail)
    else:
        audit.record("permission.change", obj=instance, detail=detail)


def connect() -> None:
    user_logged_in.connect(_signed_in, dispatch_uid="openmnr.audit.sign_in")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="openmnr.audit.sign_in_failed")
    user_logged_out.connect(_signed_out, dispatch_uid="openmnr.audit.sign_out")
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _membership_changed, sender=through, dispatch_uid=f"openmnr.audit.{through.__name__}"
        )
