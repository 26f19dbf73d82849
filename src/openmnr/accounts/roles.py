"""The roles of DESIGN.md as Django groups with explicit permissions.

Each app declares what each role may do with its own data in a `GRANTS` dict in its `roles.py`
(role name -> permission codenames of that app, or "app_label.codename" for another app's
table); this module collects them, so a new app plugs in
without editing this file. docs/roles.md is the same table in prose; a test keeps the two in step.
"""

from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils.module_loading import module_has_submodule

from openmnr.common.links import StaffLink


@dataclass(frozen=True)
class Role:
    name: str
    label: str
    staff: bool  # signs in to the staff pages (with a second factor)


ROLES = [
    Role("analyst", "Analyst", True),
    Role("senior_analyst", "Senior analyst", True),
    Role("industry_member", "Industry member", False),
    Role("partner_hotline", "Partner hotline", False),
    Role("law_enforcement", "Law-enforcement liaison", True),
    Role("national_coordinator", "National coordinator", True),
    Role("administrator", "Administrator", True),
]
ROLE_BY_NAME = {role.name: role for role in ROLES}


def register_roles() -> None:
    """Add the roles other apps declare in their ``roles.ROLES`` (called from this app's ready()).

    An app that brings a new kind of partner (a blocking licensee, say) declares its role next to
    its grants instead of editing the list above. The lists are extended in place, so a module that
    imported ``ROLES`` sees the new roles; an API-only role goes after the last API-only role, so
    the order still runs from the least to the most privileged (``primary_role`` relies on it).
    """
    for config in apps.get_app_configs():
        if config.name == __package__ or not module_has_submodule(config.module, "roles"):
            continue
        for role in getattr(import_module(f"{config.name}.roles"), "ROLES", []):
            if role.name in ROLE_BY_NAME:
                continue
            at = len(ROLES) if role.staff else max(i for i, r in enumerate(ROLES) if not r.staff) + 1
            ROLES.insert(at, role)
            ROLE_BY_NAME[role.name] = role


def api_role_names() -> list[str]:
    """The roles that act through API keys only (industry members, partner hotlines, licensees)."""
    return [role.name for role in ROLES if not role.staff]


# What this app grants: every staff role reaches the staff home; administrators manage people and keys.
GRANTS = {
    "analyst": ["access_staff_home"],
    "senior_analyst": ["access_staff_home"],
    "law_enforcement": ["access_staff_home"],
    "national_coordinator": ["access_staff_home"],
    "administrator": [
        "access_staff_home",
        "manage_users",
        "manage_api_keys",
        "view_apikey",
        # Django's own tables, managed through the administration site.
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "otp_totp.view_totpdevice",
    ],
}

STAFF_LINKS = [
    StaffLink(
        "accounts.manage_api_keys",
        "API keys",
        "accounts:api-keys",
        "Issue keys to industry members and partner hotlines; revoke them.",
    ),
    StaffLink(
        "accounts.manage_users",
        "Users and roles",
        "admin:auth_user_changelist",
        "Create accounts and set their roles (administration site).",
    ),
]


def role_grants() -> dict[str, set[tuple[str, str]]]:
    """Role name -> {(app_label, codename)} gathered from every installed app's roles.GRANTS."""
    grants: dict[str, set[tuple[str, str]]] = {role.name: set() for role in ROLES}
    for config in apps.get_app_configs():
        if not module_has_submodule(config.module, "roles"):
            continue
        module = __import__(f"{config.name}.roles", fromlist=["GRANTS"])
        for role_name, codenames in getattr(module, "GRANTS", {}).items():
            if role_name not in grants:
                raise ValueError(f"{config.name}.roles grants to unknown role {role_name!r}")
            for name in codenames:
                app_label, _, codename = name.rpartition(".")
                grants[role_name].add((app_label or config.label, codename))
    return grants


def sync_roles() -> None:
    """Make each role's group hold exactly the permissions granted to it, no more."""
    for role_name, wanted in role_grants().items():
        group, _ = Group.objects.get_or_create(name=role_name)
        perms = []
        for app_label, codename in sorted(wanted):
            try:
                perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
            except Permission.DoesNotExist:
                raise ValueError(
                    f"role {role_name}: permission {app_label}.{codename} does not exist"
                ) from None
        group.permissions.set(perms)


def sync_roles_after_migrate(**kwargs) -> None:
    # post_migrate fires once per app; permissions of apps migrated later do not exist yet, so
    # wait for the last app configured.
    if kwargs.get("app_config") is not list(apps.get_app_configs())[-1]:
        return
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using=kwargs.get("using", "default"))
    sync_roles()


def roles_of(user) -> list[str]:
    """The role names of a user, in the order of ROLES (as ``remember_roles`` left them on this
    user object, if it did)."""
    remembered = getattr(user, "_role_names_cache", None)
    if remembered is not None:
        return list(remembered)
    names = set(user.groups.values_list("name", flat=True))
    return [role.name for role in ROLES if role.name in names]


def remember_roles(user) -> None:
    """Read `user`'s roles once and keep them on this object, as Django keeps its permissions
    (``_perm_cache``): for a user object that outlives a request (the API key cache, which trusts
    the roles exactly as long as it trusts the permissions it read with them)."""
    user._role_names_cache = tuple(roles_of(user))


def may_use_staff_site(user) -> bool:
    """Whether `user` may hold a session: sign in, enrol a second factor, call the API by session.

    Only staff roles (``Role.staff``) may. API-only roles (industry members, partner hotlines)
    authenticate with keys only, so a leaked or guessed password of such an account opens nothing.
    Decided by the permission every staff role holds and no API-only role does (a test keeps
    ``GRANTS`` and ``Role.staff`` in step).
    """
    return bool(user.is_active and user.has_perm("accounts.access_staff_home"))


def primary_role(user) -> str:
    """The role recorded in the audit log: the user's most privileged role, or '' for none."""
    held = roles_of(user)
    return held[-1] if held else ""
