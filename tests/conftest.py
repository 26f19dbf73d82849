"""Fixtures shared by the whole suite."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from helpers import Site, new_bank, sign_in_client

# The same examples everywhere, but no failure because a shared machine was slow to make them:
# the suite runs in parallel (make test) beside other work, and speed is measured in bench/.
hypothesis_settings.register_profile("openmnr", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("openmnr")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only test data folder that sits beside the clone (../shared)."""
    if not SHARED.is_dir():
        pytest.fail(f"test data folder {SHARED} is missing: it must sit beside the clone")
    return SHARED


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix():
    """One test database per pytest-xdist worker (`make test` runs several): on SQLite
    var/test-openmnr-gw0.sqlite3 and so on beside the single-process file, on PostgreSQL
    test_<name>_gw0. A child process a test starts is handed the worker's own database name
    (`connection.settings_dict["NAME"]` once the test database exists)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    from django.conf import settings

    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if "sqlite" in database["ENGINE"]:
            name = Path(test["NAME"])
            test["NAME"] = name.with_name(f"{name.stem}-{worker}{name.suffix}")
        else:
            test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{worker}"


@pytest.fixture(autouse=True)
def _fresh_perceptual_memo():
    """Each test hashes its industry files afresh: a test that makes a decode fail must not be
    answered from another test's result for the same bytes (``industry.files.PerceptualMemo``)."""
    from openmnr.industry import files

    files._memo.clear()


@pytest.fixture(autouse=True)
def _test_transport(settings, tmp_path):
    """The test client and live server speak plain HTTP; everything else stays as in production.
    Password hashing is Argon2 in production and a fast hasher here, only to keep the suite quick.
    Match-index snapshots go to the test's own folder, never to a var/ that parallel runs share;
    each test's audit checkpoints stay its own (each test has its own chain)."""
    settings.SECURE_SSL_REDIRECT = False
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


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
