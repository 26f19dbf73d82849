"""A page an app offers on the staff home. Each app lists its pages in ``roles.STAFF_LINKS`` with
the permission each needs; ``openmnr.web.home`` shows a user exactly those their role holds."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffLink:
    permission: str  # "app_label.codename"
    title: str
    url_name: str
    description: str
