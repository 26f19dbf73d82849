"""Print the roles-and-permissions table of docs/roles.md from the apps' GRANTS."""

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand

from openmnr.accounts.roles import ROLES, role_grants


def roles_table() -> str:
    grants = role_grants()
    every = sorted(set().union(*grants.values()))
    names = {
        (p.content_type.app_label, p.codename): p.name
        for p in Permission.objects.select_related("content_type")
    }
    header = "| permission | what it allows | " + " | ".join(r.label for r in ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = [
        f"| `{app}.{codename}` | {names.get((app, codename), '')} | "
        + " | ".join("yes" if (app, codename) in grants[r.name] else "" for r in ROLES)
        + " |"
        for app, codename in every
    ]
    return "\n".join([header, rule, *rows]) + "\n"


class Command(BaseCommand):
    help = "Print the roles table for docs/roles.md."

    def handle(self, *args, **options):
        self.stdout.write(roles_table(), ending="")
