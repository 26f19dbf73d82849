import io

import pytest

from openmnr.blocking import demo
from openmnr.blocking.models import Keyword, ListVersion
from openmnr.hotline import services as hotline


@pytest.mark.django_db
def test_the_demo_publishes_the_list_and_proposes_a_keyword_once(make_user, settings, tmp_path):
    settings.DEBUG, settings.VAR_DIR = True, tmp_path
    make_user("senior_analyst", username="senior-analyst")
    hotline.file_demo_report("https://demo.example/1", "demo")
    out = io.StringIO()
    demo.load(out)
    demo.load(out)
    assert ListVersion.objects.count() == 1 and ListVersion.objects.get().count == 1
    assert Keyword.objects.filter(status="pending").count() == 1
    assert "/blocked/?v=1" in out.getvalue()
