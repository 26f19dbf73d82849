"""Fixtures shared by the whole suite."""

from pathlib import Path

import pytest

from helpers import Site, new_bank, sign_in_client

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only test data folder that sits beside the clone (../shared)."""
    if not SHARED.is_dir():
        pytest.fail(f"test data folder {SHARED} is missing: it must sit beside the clone")
    return SHARED


@pytest.fixture(autouse=True)
def _test_transport(settings):
    """The test client and live server speak plain HTTP; everything else stays as in production.
    Password hashing is Argon2 in production and a fast hasher here, only to keep the suite quick."""
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """make_user("analyst") -> a user holding that role, with a confirmed TOTP device."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from openmnr.accounts.roles import sync_roles

    sync_roles()
    counter = iter(range(1, 10_000))

    def make(role: str | None, *, username: str | None = None, password: str = "correct horse battery 9"):
        user = get_user_model().objects.create_user(
            username=username or f"{role or 'nobody'}-{next(counter)}",
            password=password,
            is_staff=(role == "administrator"),
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        return user

    return make


@pytest.fixture
def staff_client(client, make_user):
    """staff_client("analyst") -> (client signed in with a verified second factor, user)."""

    def make(role: str | None, *, verified: bool = True):
        user = make_user(role)
        return sign_in_client(client, user, verified=verified), user

    return make


@pytest.fixture
def site():
    """A web site on 127.0.0.1 whose pages the test sets (helpers.Site)."""
    server = Site()
    yield server
    server.close()


@pytest.fixture
def make_bank(db):
    """make_bank(purpose="confirmed_csam", name=..., match_roles=..., **fields) -> a Bank."""
    return new_bank


@pytest.fixture
def seniors(make_user):
    """Two senior analysts: the four eyes that confirm an entry."""
    return make_user("senior_analyst"), make_user("senior_analyst")
