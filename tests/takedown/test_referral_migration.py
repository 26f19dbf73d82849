"""Migrations keep existing data: a referral sent before held-case referrals existed keeps its
case (its takedown's), and a hold placed before hold rules had their own unanswered rule follows
the default (null)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("takedown", "0002_removal_outcomes"), ("hotline", "0004_report_themes")]
AFTER = [("takedown", "0003_held_case_referrals"), ("hotline", "0005_hold_rules_and_reminders")]


@pytest.fixture
def executor():
    """A migration executor; the database is brought back to the latest migrations afterwards."""
    yield MigrationExecutor(connection)
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_referrals_and_holds_survive_the_migrations(executor):
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    now = timezone.now()
    user = old.get_model("auth", "User").objects.create(username="senior")
    Case = old.get_model("hotline", "Case")
    case = Case.objects.create(
        url="https://example.org/a", url_sha256="a" * 64, state="actioned", assessment="baseline"
    )
    held = Case.objects.create(
        url="https://example.org/b", url_sha256="b" * 64, state="held", assessment="baseline", held_at=now
    )
    takedown = old.get_model("takedown", "TakedownCase").objects.create(case=case, schedule={}, opened_at=now)
    entry = old.get_model("takedown", "DirectoryEntry").objects.create(kind="law_enforcement", name="Unit")
    old.get_model("takedown", "Referral").objects.create(
        takedown=takedown, recipient=entry, file_name="r.zip", sha256="0" * 64, size=1, created_by_id=user.pk
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    referral = new.get_model("takedown", "Referral").objects.get()
    assert (referral.case_id, referral.takedown_id, referral.held) == (case.pk, case.pk, False)
    held = new.get_model("hotline", "Case").objects.get(pk=held.pk)
    assert (held.hold_answer_hours, held.hold_unanswered, held.state) == (None, "", "held")
