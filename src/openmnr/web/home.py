"""What the staff home offers: every app lists its pages in `roles.STAFF_LINKS` (see
``openmnr.common.links.StaffLink``) with the permission each needs, and a user sees exactly those
their role holds."""

from django.apps import apps
from django.urls import reverse
from django.utils.module_loading import module_has_submodule

from openmnr.common.links import StaffLink


def all_links() -> list[StaffLink]:
    links = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "roles"):
            module = __import__(f"{config.name}.roles", fromlist=["STAFF_LINKS"])
            links.extend(getattr(module, "STAFF_LINKS", []))
    return links


def may_open(user, link: StaffLink) -> bool:
    wanted = (link.permission,) if isinstance(link.permission, str) else link.permission
    return user.has_perms(wanted)


def links_for(user) -> list[dict]:
    return [
        {"title": link.title, "url": reverse(link.url_name), "description": link.description}
        for link in all_links()
        if may_open(user, link)
    ]
