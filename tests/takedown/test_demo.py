"""The demo: one case from report to confirmed removal, with its timeline and a referral, built
without any network; loading it again creates nothing twice."""

import io

import pytest
from django.contrib.auth import get_user_model

from helpers import sign_in_client
from openmnr.hotline.models import Case
from openmnr.takedown import demo
from openmnr.takedown.models import Event, Notice, Referral, TakedownCase
from openmnr.web.demo import ensure_demo_users

pytestmark = pytest.mark.django_db


def test_demo_tells_the_whole_story_once(settings, tmp_path, client):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.REFERRAL_SIGNING_KEY = settings.REFERRAL_DIR = ""  # under VAR_DIR
    ensure_demo_users()
    out = io.StringIO()
    demo.load(out)

    takedown = TakedownCase.objects.get()
    assert takedown.case.is_demo and takedown.status == "removed"
    assert takedown.first_notice_at < takedown.acknowledged_at < takedown.removed_at < takedown.confirmed_at
    kinds = list(takedown.events.values_list("kind", flat=True))
    for kind in ("opened", "traced", "routed", "notice", "acknowledged", "check", "removed", "referral"):
        assert kind in kinds, kind
    assert Case.objects.get(pk=takedown.pk).state == "actioned"
    # Demo mode made the signing key, and the package lies beside it under VAR_DIR.
    assert (tmp_path / "keys" / "referral-signing.pem").exists()
    assert len(list((tmp_path / "referrals").iterdir())) == 1
    assert "removed" in out.getvalue() and f"/staff/takedown/cases/{takedown.pk}/" in out.getvalue()

    counts = (Event.objects.count(), Notice.objects.count(), Referral.objects.count(), Case.objects.count())
    demo.load(io.StringIO())
    assert (
        Event.objects.count(),
        Notice.objects.count(),
        Referral.objects.count(),
        Case.objects.count(),
    ) == counts

    sign_in_client(client, get_user_model().objects.get(username="senior-analyst"))
    assert client.get("/staff/takedown/statistics/").status_code == 200
    page = client.get(f"/staff/takedown/cases/{takedown.pk}/").content.decode()
    assert "removal confirmed" in page and "acknowledged" in page
