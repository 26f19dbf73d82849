"""Demo data for `make run`: one user per role with a printed password and TOTP secret.

Only benign content. Passwords are random on first run and kept in var/demo-logins.txt (readable
by the owner only) so that re-running prints the same logins and keeps all data.
"""

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

DEMO_USERS = {role.name: role.name.replace("_", "-") for role in ROLES}


def _logins_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.txt"


def _read_saved() -> dict[str, str]:
    path = _logins_file()
    if not path.exists():
        return {}
    saved = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("\t")
        saved[name] = value
    return saved


def _write_saved(saved: dict[str, str]) -> None:
    path = _logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}\t{v}\n" for k, v in saved.items()))
    path.chmod(0o600)


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
    out.write("\nDemo logins (password, then the TOTP secret to add to an authenticator app):\n")
    for username, role in demo_users():
        login = f"password {saved[username]}" if role.staff else "no sign-in: uses its API key"
        out.write(f"  {role.label:26} user {username:22} {login}\n")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is not None:
            out.write(f"  {'':26} TOTP {device.config_url}\n")
        if f"key:{username}" in saved:
            out.write(f"  {'':26} API key {saved[f'key:{username}']}\n")
    out.write(f"\nThese are kept in {_logins_file()}.\n")
    out.write("Current TOTP codes for the demo users: openmnr manage demo_codes\n")
