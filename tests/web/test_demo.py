import io

import pytest
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.accounts.roles import ROLES
from openmnr.web.demo import load_demo


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_creates_one_user_per_role_and_rerunning_keeps_everything(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    first = io.StringIO()
    load_demo(first)
    users = get_user_model().objects.count()
    devices = TOTPDevice.objects.count()
    second = io.StringIO()
    load_demo(second)
    assert get_user_model().objects.count() == users
    assert TOTPDevice.objects.count() == devices
    for role in ROLES:
        user = get_user_model().objects.get(username=role.name.replace("_", "-"))
        assert user.groups.filter(name=role.name).exists()
    # The same logins are printed both times, with TOTP secrets as otpauth URIs.
    assert first.getvalue().split("Demo logins")[1][:2000] == second.getvalue().split("Demo logins")[1][:2000]
    assert "otpauth://totp/" in first.getvalue()


@pytest.mark.django_db
def test_demo_refuses_to_run_outside_demo_mode(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        load_demo(io.StringIO())
