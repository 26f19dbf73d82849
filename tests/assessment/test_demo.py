"""The demo: Examplestan with last year's cycle signed off and this year's open, made once."""

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
    assert "Held until a target is raised" in page
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
