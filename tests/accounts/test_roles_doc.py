from pathlib import Path

import pytest

from openmnr.accounts.management.commands.roles_table import roles_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


@pytest.mark.django_db
def test_docs_roles_table_matches_the_code():
    """docs/roles.md is what the server enforces; regenerate with `openmnr manage roles_table`."""
    assert roles_table() in DOC.read_text()


@pytest.mark.django_db
def test_each_role_group_holds_exactly_its_grants(make_user):
    from django.contrib.auth.models import Group

    from openmnr.accounts.roles import role_grants

    for role, wanted in role_grants().items():
        held = {
            (p.content_type.app_label, p.codename) for p in Group.objects.get(name=role).permissions.all()
        }
        assert held == wanted, role
