"""The optional contact address: encrypted at rest, a vague update at most once a day when a
platform reports a removal, deleted with the case; no address asked for without a key."""

import pytest
from django.core import mail
from django.db import connection

from openmnr.survivors import contact, intake, outcomes
from openmnr.survivors.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def run_queued_updates() -> int:
    """Run the queued update tasks as the worker would; return how many were queued."""
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(task_path="openmnr.survivors.tasks.notify_case")
    for task in queued:
        contact.notify(*task.args_kwargs["args"])
    return queued.count()


def test_the_address_is_stored_encrypted_only(open_case, photos):
    open_case(photos[:1], email="young.person@example.org")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed FROM survivors_contact")
        (stored,) = cursor.fetchone()
    assert "young.person" not in stored and "example.org" not in stored
    assert contact.unseal(Contact.objects.get().sealed) == "young.person@example.org"


def test_a_removal_sends_one_vague_update_a_day(open_case, photos, make_user):
    answer, code = open_case(photos[:2], email="young.person@example.org")
    industry = make_user("industry_member")
    outcomes.report([{"md5": photos[0]["md5"], "outcome": "removed"}], user=industry)
    outcomes.report([{"md5": photos[1]["md5"], "outcome": "removed"}], user=industry)
    outcomes.report([{"md5": photos[1]["md5"], "outcome": "kept"}], user=industry)
    assert run_queued_updates() == 2  # two removals; a "kept" sends nothing
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["young.person@example.org"]
    text = (message.subject + message.body).lower()
    for word in (
        "picture",
        "photo",
        "video",
        "nude",
        "sexual",
        "removed",
        code.lower(),
        code.replace("-", "").lower(),
    ):
        assert word not in text
    assert "/take-it-down/status/" in message.body
    assert Contact.objects.get().notified_at is not None


def test_the_address_is_deleted_when_the_case_is_withdrawn(client, open_case, photos):
    _, code = open_case(photos[:1], email="young.person@example.org")
    client.post("/take-it-down/withdraw/", {"code": code, "confirm": "yes"})
    assert not Contact.objects.exists()


def test_without_a_key_no_address_is_asked_for(client, settings, photos, post_json):
    settings.SURVIVORS_CONTACT_KEY = ""
    settings.DEBUG = False
    settings.VAR_DIR = settings.VAR_DIR / "no-key-here"
    page = client.get("/take-it-down/").content.decode()
    assert 'id="email"' not in page
    body = {"items": photos[:1], "pictured": True, "under_18": True, "email": "a@example.org"}
    response = post_json("/take-it-down/cases/", body)
    assert response.status_code == 400
    assert intake.Case.objects.count() == 0
    body["email"] = ""
    assert post_json("/take-it-down/cases/", body).status_code == 201


def test_in_demo_mode_a_key_is_made_on_first_use(settings, tmp_path):
    settings.SURVIVORS_CONTACT_KEY = ""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    sealed = contact.seal("x@example.org")
    key = tmp_path / "keys" / "survivors-contact.key"
    assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
    assert contact.unseal(sealed) == "x@example.org"
