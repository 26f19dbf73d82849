"""The demo: Examplestan with last year's cycle signed off by two coordinators and this year's open,
and Neighbourland's signed results in the regional comparison; made once."""

import io

import pytest

from openmnr.assessment import demo
from openmnr.assessment.models import Cycle, HistoryEntry

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_demo_country_has_a_signed_off_and_an_open_cycle_and_loads_once(client, as_user, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from openmnr.web.demo import ensure_demo_users

    settings.VAR_DIR = tmp_path
    ensure_demo_users()
    out = io.StringIO()
    demo.load(out)
    demo.load(out)
    assert out.getvalue().count("Assessment demo: Examplestan") == 1
    previous, current = Cycle.objects.filter(country="Examplestan").order_by("period_start")
    assert previous.state == Cycle.State.SIGNED_OFF and current.state == Cycle.State.DRAFT
    assert current.capabilities.filter(updated_at__isnull=False).count() == 21
    history = HistoryEntry.objects.count()
    demo.load(out)
    assert HistoryEntry.objects.count() == history

    # The demo coordinator sees progress since last year and the plan.
    as_user(get_user_model().objects.get(username="national-coordinator"))
    page = client.get(f"/staff/assessment/{current.pk}/").content.decode()
    assert f"Levels in the signed-off cycle {previous.period_start:%Y-%m-%d}" in page
    assert '<span class="up">up 1</span>' in page
    assert "Waits for" in page and "3 Legislation at level 2 (it is at 1)" in page
    # Four eyes: two different coordinators signed last year's cycle, and the hash still holds.
    assert previous.signed_by.username == "national-coordinator"
    assert previous.signed_off_by.username == "national-coordinator-2"
    page = client.get(f"/staff/assessment/{previous.pk}/").content.decode()
    assert "Countersigned by" in page and "national-coordinator-2" in page
    assert "The content recorded now still has this hash." in page
    # The neighbour's signed results sit beside Examplestan's in the regional comparison.
    page = client.get("/staff/assessment/comparison/").content.decode()
    assert "Neighbourland" in page and "imported, signature verified" in page
    assert "Who has done what others plan" in page
    # The demo contributor for the victim domain may edit it, and nothing else.
    as_user(get_user_model().objects.get(username="senior-analyst"))
    page = client.get(f"/staff/assessment/{current.pk}/capabilities/11/").content.decode()
    assert 'name="current_level"' in page
    page = client.get(f"/staff/assessment/{current.pk}/capabilities/3/").content.decode()
    assert "not in a domain assigned to you" in page


def test_demo_waits_for_the_demo_users():
    out = io.StringIO()
    demo.load(out)
    assert "demo users missing" in out.getvalue() and not Cycle.objects.exists()
