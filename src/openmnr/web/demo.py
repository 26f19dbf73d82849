"""Demo data for `make run`: one user per role with a printed password and TOTP secret.

Only benign content. Passwords are random on first run and kept in var/demo-logins.txt (readable
by the owner only, and saying it is for the demo only) so that re-running prints the same logins
and keeps all data. The file also holds each staff user's TOTP secret (``totp:<username>`` lines,
the base32 text an authenticator app takes), so that the demo can be tried from the file alone;
those lines are written from the database each time and never read back.
"""

import base64
import os
import secrets
from importlib import import_module
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.module_loading import module_has_submodule
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.accounts import apikeys
from openmnr.accounts.roles import ROLES, api_role_names, sync_roles
from openmnr.common.demo import base_url

DEMO_USERS = {role.name: role.name.replace("_", "-") for role in ROLES}


def _logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def _read_saved() -> dict[str, str]:
    path = _logins_file()
    if not path.exists():
        return {}
    saved = {}
    for line in path.read_text().splitlines():
        name, tab, value = line.partition("\t")
        if tab and not name.startswith(("#", "totp:")):
            saved[name] = value
    return saved


LOGINS_HEADER = (
    "# OpenMNR DEMO logins: for the local demo only, never for a real installation.\n"
    "# Lines: username TAB password; key:<user> TAB API key; ispws:<user> TAB CyberTipline password;\n"
    "# totp:<user> TAB the TOTP secret to add to an authenticator app (or run\n"
    "# `openmnr manage demo_codes` for the current codes).\n"
)


def _totp_secrets() -> dict[str, str]:
    secrets_by_user = {}
    for username, _role in demo_users():
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is not None:
            secrets_by_user[username] = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return secrets_by_user


def _write_saved(saved: dict[str, str]) -> None:
    path = _logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(LOGINS_HEADER)
        out.write("".join(f"{k}\t{v}\n" for k, v in saved.items()))
        out.write("".join(f"totp:{k}\t{v}\n" for k, v in _totp_secrets().items()))


def _app_demos():
    """Each app's demo module (its `demo.py`), in app order."""
    for config in apps.get_app_configs():
        if (
            config.name.startswith("openmnr.")
            and module_has_submodule(config.module, "demo")
            and config.name != "openmnr.web"
        ):
            yield import_module(f"{config.name}.demo")


def demo_users() -> list[tuple[str, "object"]]:
    """(username, role) of every demo user: one per role, then those an app's demo module adds in its
    `USERS` (username -> role name), such as a second national coordinator for four eyes."""
    roles = {role.name: role for role in ROLES}
    users = [(DEMO_USERS[role.name], role) for role in ROLES]
    for module in _app_demos():
        users += [(name, roles[role]) for name, role in getattr(module, "USERS", {}).items()]
    return users


@transaction.atomic
def ensure_demo_users() -> dict[str, str]:
    """Create any missing demo user; return username -> password for all of them."""
    sync_roles()
    saved = _read_saved()
    user_model = get_user_model()
    for username, role in demo_users():
        user = user_model.objects.filter(username=username).first()
        if user is None or username not in saved:
            password = "demo-" + secrets.token_urlsafe(9)
            if user is None:
                user = user_model.objects.create_user(username=username, password=password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            saved[username] = password
        user.is_staff = role.name == "administrator"
        user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get(name=role.name))
        if role.staff and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="demo authenticator", confirmed=True)
    for role_name in api_role_names():
        owner = user_model.objects.get(username=DEMO_USERS[role_name])
        label = f"key:{owner.username}"
        if label not in saved:
            scopes = sorted(
                f"{p.content_type.app_label}.{p.codename}"
                for p in Group.objects.get(name=role_name).permissions.select_related("content_type")
            )
            _, text = apikeys.create_api_key(
                owner=owner, name=f"Demo key for {owner.username}", scopes=scopes
            )
            saved[label] = text
    _write_saved(saved)
    return saved


def load_demo(out) -> None:
    """Demo users first, then each app's own demo content (its `demo.load(out)`), in app order."""
    if not settings.DEBUG:
        raise ImproperlyConfigured("the demo data is for a local demo only: set OPENMNR_DEBUG=1")
    saved = ensure_demo_users()
    for module in _app_demos():
        module.load(out)
    _write_saved(_read_saved())  # with what the apps' demos added (their own logins)
    totp_secrets = _totp_secrets()
    out.write("\nDemo logins (password, then the TOTP secret to add to an authenticator app):\n")
    for username, role in demo_users():
        login = f"password {saved[username]}" if role.staff else "no sign-in: uses its API key"
        out.write(f"  {role.label:26} user {username:22} {login}\n")
        if username in totp_secrets:
            out.write(f"  {'':26} TOTP secret {totp_secrets[username]}\n")
        if f"key:{username}" in saved:
            out.write(f"  {'':26} API key {saved[f'key:{username}']}\n")
    out.write(f"\nThese logins and TOTP secrets are kept in {_logins_file()} (demo only).\n")
    out.write(f"Current TOTP codes for the demo users: {_command()} manage demo_codes\n")
    out.write(f"Sign in at {base_url()}/accounts/sign-in/\n")


def _command() -> str:
    """How to call `openmnr` from where the demo was loaded (the checkout's venv, if that is it)."""
    import sys

    local = Path(sys.prefix) / "bin" / "openmnr"
    try:
        return str(local.relative_to(Path.cwd()))
    except ValueError:
        return "openmnr"
