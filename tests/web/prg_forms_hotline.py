"""The hotline, exchange and live forms of tests/web/test_post_redirect_get.py: a triaged case with
a kept benign picture, claimed by an analyst, then each form's valid submission."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from web.prg_forms import Post, audited, form

# --- hotline ----------------------------------------------------------------------------------


def _case(w, *, claimed=True):
    """A triaged case with one kept picture (evidence on), claimed by an analyst; (case, item, analyst)."""
    from openmnr.core.evidence import generate_key
    from openmnr.hotline import cases, triage
    from openmnr.hotline.intake import ReportInput, receive_public

    w.settings.KEEP_EVIDENCE = True
    w.settings.EVIDENCE_KEY = generate_key()
    w.settings.EVIDENCE_DIR = w.tmp_path / "evidence"
    photo = (w.shared / "corpus" / "natural" / "coffee-02.jpg").read_bytes()
    case = receive_public(ReportInput(urls=["https://example.org/gallery.html"])).urls.get().case
    triage.add_media(case.pk, 0, "https://example.org/c.jpg", photo, "image/jpeg")
    triage.finish(case.pk)
    analyst = w.make_user("analyst")
    if claimed:
        cases.claim(case.pk, analyst)
    return case, case.items.get(), analyst


CLASSIFIED = {"assessment": "nationally_illegal", "category": "C", "age_group": "pubescent"}


def _classified(w):
    case, item, analyst = _case(w)
    w.as_(analyst).post(f"/staff/hotline/items/{item.pk}/classify/", CLASSIFIED)
    return case, item, analyst


def _held(w):
    case, _item, analyst = _classified(w)
    w.as_(analyst).post(f"/staff/hotline/cases/{case.pk}/complete/", {"hold_for_police": "an operation"})
    assert type(case).objects.get(pk=case.pk).state == "held"
    return case


@form("hotline:claim")
def _claim(w):
    case, _item, analyst = _case(w, claimed=False)
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/claim/", once=audited("hotline.case.claim"))


@form("hotline:release")
def _release(w):
    case, _item, analyst = _case(w)
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/release/", once=audited("hotline.case.release"))


@form("hotline:classify")
def _classify(w):
    _case_, item, analyst = _case(w)
    return Post(
        analyst, f"/staff/hotline/items/{item.pk}/classify/", CLASSIFIED, audited("hotline.item.classify")
    )


@form("hotline:complete")
def _complete(w):
    case, _item, analyst = _classified(w)
    return Post(
        analyst,
        f"/staff/hotline/cases/{case.pk}/complete/",
        once=lambda: type(case).objects.filter(pk=case.pk, state="assessed").count(),
    )


@form("hotline:site")
def _site(w):
    case, _item, analyst = _case(w)
    data = {"site_type": "image_board", "commerciality": "commercial", "payment_methods": ["visa"]}
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/site/", data, audited("hotline.case.site"))


@form("hotline:set-aside")
def _set_aside(w):
    case, _item, analyst = _case(w)
    return Post(
        analyst,
        f"/staff/hotline/cases/{case.pk}/set-aside/",
        {"to": "not_actionable", "reason": "a parked domain"},
        lambda: type(case).objects.filter(pk=case.pk, state="not_actionable").count(),
    )


@form("hotline:handled")
def _handled(w):
    from urllib.parse import urlencode

    from openmnr.hotline.models import Submission

    report = {
        "urls": "",
        "found_where": "chat",
        "content_kind": "sexual_extortion",
        "description": "threats",
        "platform": "ChatApp",
        "username": "x",
    }
    Client().post("/report/", urlencode(report), content_type="application/x-www-form-urlencoded")
    submission = Submission.objects.get()
    return Post(
        w.make_user("analyst"),
        f"/staff/hotline/without-address/{submission.pk}/handled/",
        once=audited("hotline.report.handle"),
    )


@form("hotline:hold-release")
def _hold_release(w):
    case = _held(w)
    return Post(
        w.make_user("law_enforcement"),
        f"/staff/hotline/held/{case.pk}/release/",
        {"reason": "no objection"},
        lambda: type(case).objects.filter(pk=case.pk, state="assessed").count(),
    )


@form("hotline:hold-keep")
def _hold_keep(w):
    case = _held(w)
    review = timezone.localdate() + timedelta(days=10)
    return Post(
        w.make_user("law_enforcement"),
        f"/staff/hotline/held/{case.pk}/keep/",
        {"reason": "operation running", "review_at": str(review)},
        audited("hotline.hold.keep"),
    )


@form("hotline:propose")
def _propose_item(w):
    _case_, item, analyst = _classified(w)
    bank = w.make_bank()
    return Post(
        analyst,
        f"/staff/hotline/items/{item.pk}/propose/",
        {"bank": bank.pk},
        audited("hotline.item.propose"),
    )


@form("hotline:reveal")
def _reveal(w):
    _case_, item, analyst = _case(w)
    return Post(analyst, f"/staff/hotline/items/{item.pk}/reveal/", once=audited("hotline.media.reveal"))


@form("hotline:hide")
def _hide(w):
    _case_, item, analyst = _case(w)
    w.as_(analyst).post(f"/staff/hotline/items/{item.pk}/reveal/")
    # Hidden again: the item page no longer holds the revealed picture (once: nothing is made).
    return Post(
        analyst,
        f"/staff/hotline/items/{item.pk}/hide/",
        once=lambda: int(
            'id="revealed-media"'
            not in w.as_(analyst).get(f"/staff/hotline/items/{item.pk}/").content.decode()
        ),
    )


# --- exchange and live -------------------------------------------------------------------------


def _failed_row():
    from openmnr.exchange.models import OutboxRow, RowState

    return OutboxRow.objects.create(
        channel="iccam", kind="assessment", dedupe_key="prg:1", state=RowState.FAILED, error="refused"
    )


@form("exchange:retry")
def _retry(w):
    row = _failed_row()
    return Post(
        w.make_user("administrator"),
        f"/staff/exchange/outbox/{row.pk}/retry/",
        once=lambda: type(row).objects.filter(pk=row.pk, state="pending").count(),
    )


@form("exchange:dismiss")
def _dismiss(w):
    row = _failed_row()
    return Post(
        w.make_user("administrator"),
        f"/staff/exchange/outbox/{row.pk}/dismiss/",
        once=lambda: type(row).objects.filter(pk=row.pk, state="dismissed").count(),
    )


@form("live:transition")
def _live(w):
    import time

    from openmnr.banks.models import BankEntry
    from openmnr.live import intake

    bank = w.make_bank()
    entry = BankEntry.objects.create(
        bank=bank,
        signal_type="pdq",
        value="a" * 64,
        classification="baseline",
        status="active",
        proposed_by=w.make_user("analyst"),
    )
    now = time.time()
    stream = "rtmp://127.0.0.1:1935/live/a"
    alert = intake.record_event(
        {
            "event": "alert_opened",
            "stream": stream,
            "at": now,
            "alert": {
                "key": "k1",
                "stream": stream,
                "first_match": 1.0,
                "last_match": 2.0,
                "first_match_wall": now - 2,
                "last_match_wall": now,
                "opened_wall": now - 1,
                "entries": {str(entry.pk): 3},
                "matching_samples": 4,
                "closed": False,
            },
        }
    )
    return Post(
        w.make_user("analyst"),
        f"/staff/live/{alert.pk}/state/",
        {"to": "acknowledged"},
        lambda: type(alert).objects.filter(pk=alert.pk, state="acknowledged").count(),
    )
