"""The administration site respects the roles: the user list shows each user's roles and second
factor, the form assigns roles (by their labels) and nothing else, and no form field makes a
superuser, grants a single permission or sets "staff status" by hand."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django_otp.plugins.otp_totp.models import TOTPDevice

from helpers import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    return sign_in_client(client, make_user("administrator"))


def test_the_user_list_shows_roles_and_second_factor(admin_client, make_user):
    analyst = make_user("analyst", username="ana")
    newcomer = make_user("senior_analyst", username="newcomer")
    TOTPDevice.objects.filter(user=newcomer).delete()
    page = admin_client.get("/admin/auth/user/").content.decode()
    rows = {
        name: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for name in (analyst.username, newcomer.username)
        if f">{name}<" in row
    }
    assert "Analyst" in rows["ana"] and 'alt="True"' in rows["ana"]
    assert "Senior analyst" in rows["newcomer"] and 'alt="False"' in rows["newcomer"]
    assert "Staff status" not in page


def test_roles_are_assigned_as_roles_and_nothing_else(admin_client, make_user):
    user = make_user("analyst", username="changes")
    form = admin_client.get(f"/admin/auth/user/{user.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in form and 'name="user_permissions"' not in form
    assert 'name="is_staff"' not in form
    assert re.search(r"name=\"groups\"[^>]*>\s*Senior analyst</label>", form)
    assert re.search(r"name=\"groups\"[^>]*>\s*Law-enforcement liaison</label>", form)

    administrator = Group.objects.get(name="administrator")
    permission = Permission.objects.get(codename="manage_users")
    data = {
        "username": "changes",
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "groups": [administrator.pk],
        # Fields the form does not have are ignored, whatever a crafted request sends.
        "is_superuser": "on",
        "is_staff": "",
        "user_permissions": [permission.pk],
    }
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = get_user_model().objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["administrator"]
    assert user.is_staff  # follows the administrator role: the administration site checks it
    assert not user.is_superuser and not user.user_permissions.exists()

    data["groups"] = [Group.objects.get(name="analyst").pk]
    assert admin_client.post(f"/admin/auth/user/{user.pk}/change/", data).status_code == 302
    user = get_user_model().objects.get(pk=user.pk)
    assert not user.is_staff and list(user.groups.values_list("name", flat=True)) == ["analyst"]
