"""A page an app offers on the staff home. Each app lists its pages in ``roles.STAFF_LINKS`` with
the permission each needs; ``openmnr.web.home`` shows a user exactly those their role holds. A link names every permission its page checks, so nobody is offered a page that
then refuses them (tests/web/test_navigation.py opens every link of every role)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffLink:
    permission: str | tuple[str, ...]  # "app_label.codename", or all of several the page needs
    title: str
    url_name: str
    description: str
