"""POST-redirect-GET on every staff form: a successful submission answers 302/303 to a page that a
GET shows, so reloading that page never sends the form again, and what it made exists once.

``FORMS`` has one entry per staff form that creates something or acts on something (by URL
name): it builds the state the form needs through the apps' services, signs in a user whose role
may submit it and gives a valid submission, and names what must then exist once (a row, or the
audit event of the action, which every sensitive action writes in its transaction).
``test_every_staff_post_form_is_swept`` finds every staff view that handles POST and fails if one
is in none of ``FORMS``, ``NOT_A_FORM`` (with the reason) and ``COVERED_BY`` (the app's own test
that asserts the same), so a new form cannot skip this.
"""

import inspect
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from helpers import sign_in_client
from openmnr.audit.models import AuditEvent

# Staff views that take a POST but do not create or act on anything a reload could repeat.
NOT_A_FORM = {
    "accounts:step-up": "checks a fresh code and returns to the page that asked (tests/browser/test_first_hour.py)",
    "accounts:sign-out": "ends the session and leaves for the landing page",
    "banks:match": "a query: the answer is the page (nothing is written)",
    "banks:export": "a download (the answer is the file)",
    "assessment:export-results": "a download (the answer is the signed package)",
    "industry:export": "a download (the answer is the referral package)",
    "accounts:enrol": "the second-factor enrolment, a sign-in step that redirects to the staff home",
}

# Forms whose success needs state that only their app's own fixtures build (a routed takedown
# case, a finished industry report, a survivor's case, a signed results package): the test named
# posts a valid submission, asserts the 302 and what it made, once.
COVERED_BY = {
    "takedown:decide": "tests/takedown/test_routing.py::test_behind_a_cdn_the_cdn_is_noticed_and_an_analyst_routes_the_origin",
    "takedown:send-referral": "tests/takedown/test_referral.py::test_only_a_senior_analyst_with_a_fresh_second_factor_sends",
    "industry:outcome": "tests/industry/test_triage.py::test_export_a_signed_referral_package_and_mark_the_outcome",
    "industry:reveal": "tests/industry/test_triage.py (a new file revealed after step-up, then hidden)",
    "industry:hide": "tests/industry/test_triage.py (a new file revealed after step-up, then hidden)",
    "survivors:release": "tests/survivors/test_review.py::test_the_held_list_and_a_release",
    "survivors:reject": "tests/survivors/test_review.py (a rejection with its reason)",
    "survivors:propose": "tests/survivors/test_review.py (a self-reported picture proposed to the bank)",
    "survivors:close": "tests/survivors/test_cases.py (a senior analyst closes a case)",
    "assessment:import-results": "tests/assessment/test_comparison.py (a signed package imported)",
}


@dataclass
class Post:
    user: object
    url: str
    data: dict = field(default_factory=dict)
    once: object = None  # a callable: how many of what the form makes now exist (must be 1)


FORMS = {}


def form(name):
    def register(build):
        FORMS[name] = build
        return build

    return register


def _audited(action, **filters):
    return lambda: AuditEvent.objects.filter(action=action, **filters).count()


# --- accounts ----------------------------------------------------------------------------------


@form("accounts:api-keys")
def _issue_key(w):
    from openmnr.accounts.models import ApiKey

    owner = w.make_user("industry_member")
    data = {"name": "PRG", "owner": owner.pk, "rate_limit_per_minute": 60, "scopes": ["banks.match_hashes"]}
    return Post(
        w.make_user("administrator"), "/accounts/api-keys/", data, ApiKey.objects.filter(name="PRG").count
    )


@form("accounts:api-key-revoke")
def _revoke_key(w):
    from openmnr.accounts import apikeys

    key, _text = apikeys.create_api_key(owner=w.make_user("industry_member"), name="R", scopes=[])
    return Post(
        w.make_user("administrator"),
        f"/accounts/api-keys/{key.pk}/revoke/",
        once=lambda: type(key).objects.filter(pk=key.pk, revoked_at__isnull=False).count(),
    )


# --- banks -------------------------------------------------------------------------------------


@form("banks:new")
def _new_bank(w):
    from openmnr.banks.models import Bank

    data = {
        "name": "PRG bank",
        "description": "",
        "purpose": "partner_list",
        "enabled": "on",
        "provenance": "",
    }
    return Post(
        w.make_user("administrator"), "/staff/banks/new/", data, Bank.objects.filter(name="PRG bank").count
    )


@form("banks:edit")
def _edit_bank(w):
    bank = w.make_bank("partner_list", name="Before")
    data = {"name": "After", "description": "", "purpose": "partner_list", "enabled": "on", "provenance": ""}
    return Post(
        w.make_user("administrator"),
        f"/staff/banks/{bank.pk}/edit/",
        data,
        lambda: type(bank).objects.filter(pk=bank.pk, name="After").count(),
    )


@form("banks:propose")
def _propose(w):
    bank = w.make_bank()
    data = {"signal_type": "md5", "value": "0" * 31 + "7", "classification": "baseline"}
    return Post(w.make_user("analyst"), f"/staff/banks/{bank.pk}/propose/", data, bank.entries.count)


@form("banks:import")
def _import(w):
    bank = w.make_bank()
    upload = io.BytesIO(b"md5 " + b"0" * 31 + b"8\nmd5 " + b"0" * 31 + b"9\n")
    upload.name = "list.txt"
    data = {"file": upload, "format": "local", "classification": "baseline", "source_ref": "a partner"}
    return Post(w.make_user("senior_analyst"), f"/staff/banks/{bank.pk}/import/", data, bank.imports.count)


def _proposed_entry(w, value="0" * 31 + "a"):
    from openmnr.banks import services

    return services.propose_entry(
        w.make_bank(), signal_type="md5", value=value, classification="baseline", by=w.make_user("analyst")
    )


@form("banks:confirm-entry")
def _confirm_entry(w):
    entry = _proposed_entry(w)
    return Post(
        w.make_user("senior_analyst"),
        f"/staff/banks/entries/{entry.pk}/confirm/",
        once=entry.confirmations.count,
    )


@form("banks:disable-entry")
def _disable_entry(w):
    from openmnr.banks.models import BankEntry

    entry = _proposed_entry(w)
    BankEntry.objects.filter(pk=entry.pk).update(status="active")
    return Post(
        w.make_user("senior_analyst"),
        f"/staff/banks/entries/{entry.pk}/disable/",
        {"reason": "listed by mistake"},
        lambda: BankEntry.objects.filter(pk=entry.pk, status="disabled").count(),
    )


@form("banks:confirm-import")
def _confirm_import(w):
    from openmnr.banks import services

    bank = w.make_bank()
    batch = services.import_entries(
        bank,
        b"md5 " + b"1" * 32 + b"\n",
        fmt="local",
        by=w.make_user("senior_analyst"),
        classification="baseline",
    )
    from openmnr.banks.models import Confirmation

    return Post(
        w.make_user("senior_analyst"),
        f"/staff/banks/imports/{batch.pk}/confirm/",
        once=Confirmation.objects.filter(batch=batch).count,
    )


@form("banks:propose-video")
def _propose_video(w):
    bank = w.make_bank()
    value = next((w.shared / "vectors" / "pdq" / "video").glob("*.vpdq.txt")).read_text()
    data = {"bank": bank.pk, "value": value, "classification": "baseline"}
    return Post(w.make_user("analyst"), "/staff/banks/match/propose-video/", data, bank.entries.count)


# --- assessment --------------------------------------------------------------------------------


def _cycle(w, coordinator=None):
    from openmnr.assessment import services

    coordinator = coordinator or w.make_user("national_coordinator")
    cycle = services.open_cycle(
        coordinator,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )
    return cycle, coordinator


@form("assessment:open")
def _open_cycle(w):
    from openmnr.assessment.models import Cycle

    data = {
        "country": "Examplestan",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "framework_version": "mnr-2016",
    }
    return Post(w.make_user("national_coordinator"), "/staff/assessment/open/", data, Cycle.objects.count)


@form("assessment:domains")
def _domains(w):
    cycle, coordinator = _cycle(w)
    domain = cycle.domains.order_by("pk").first()
    contributor = w.make_user("analyst")
    data = {
        "domain": domain.domain,
        f"{domain.domain}-contributors": [contributor.pk],
        f"{domain.domain}-weight": "2",
    }
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/domains/",
        data,
        lambda: type(domain).objects.filter(pk=domain.pk, weight=2, contributors=contributor).count(),
    )


@form("assessment:capability")
def _capability(w):
    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    data = {"current_level": 1, "target_level": 2, "confidence": "medium", "stakeholder": ""}
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/capabilities/{record.capability}/",
        data,
        lambda: type(record).objects.filter(pk=record.pk, current_level=1, target_level=2).count(),
    )


@form("assessment:add-evidence")
def _add_evidence(w):
    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    data = {"kind": "note", "title": "Hotline annual report", "note": "Published in March."}
    from openmnr.assessment.models import Evidence

    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/capabilities/{record.capability}/evidence/",
        data,
        Evidence.objects.filter(title="Hotline annual report").count,
    )


@form("assessment:remove-evidence")
def _remove_evidence(w):
    from openmnr.assessment import services

    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    evidence = services.add_evidence(
        coordinator, cycle, record.capability, kind="note", title="Old", note="x"
    )
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/evidence/{evidence.pk}/remove/",
        once=lambda: 0 if type(evidence).objects.filter(pk=evidence.pk).exists() else 1,  # gone, once
    )


@form("assessment:comment")
def _comment(w):
    from openmnr.assessment.models import Comment

    cycle, coordinator = _cycle(w)
    data = {"text": "Please add the 2025 figures."}
    return Post(coordinator, f"/staff/assessment/{cycle.pk}/comments/", data, Comment.objects.count)


@form("assessment:transition")
def _transition(w):
    cycle, coordinator = _cycle(w)
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/state/",
        {"to": "in_review"},
        lambda: type(cycle).objects.filter(pk=cycle.pk, state="in_review").count(),
    )


@form("assessment:sign")
def _sign(w):
    from openmnr.assessment import services, signoff
    from openmnr.assessment.states import State

    cycle, coordinator = _cycle(w)
    cycle = services.transition(coordinator, cycle, State.IN_REVIEW)
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/sign/",
        {"digest": signoff.records_digest(cycle)},
        lambda: type(cycle).objects.filter(pk=cycle.pk, state=State.AWAITING_COUNTERSIGNATURE).count(),
    )


def _peer_pem():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@form("assessment:peers")
def _peers(w):
    from openmnr.assessment.models import PeerCountry

    data = {"country": "Otherland", "public_key": _peer_pem()}
    return Post(w.make_user("administrator"), "/staff/assessment/peers/", data, PeerCountry.objects.count)


@form("assessment:remove-peer")
def _remove_peer(w):
    from openmnr.assessment import results

    administrator = w.make_user("administrator")
    peer = results.set_peer_key(administrator, "Otherland", _peer_pem())
    return Post(
        administrator,
        f"/staff/assessment/peers/{peer.pk}/remove/",
        once=lambda: 0 if type(peer).objects.filter(pk=peer.pk).exists() else 1,
    )


# --- blocking ----------------------------------------------------------------------------------


@form("blocking:keywords")
def _keyword(w):
    from openmnr.blocking.models import Keyword

    data = {"term": "some code word", "language": "en", "category": "codeword"}
    return Post(w.make_user("senior_analyst"), "/staff/blocking/keywords/", data, Keyword.objects.count)


def _keyword_row(w, status="pending"):
    from openmnr.blocking import services

    keyword = services.keywords.propose(
        by=w.make_user("senior_analyst"), term="a term", language="en", category="seeking"
    )
    type(keyword).objects.filter(pk=keyword.pk).update(status=status)
    return keyword


@form("blocking:confirm-keyword")
def _confirm_keyword(w):
    keyword = _keyword_row(w)
    return Post(
        w.make_user("senior_analyst"),
        f"/staff/blocking/keywords/{keyword.pk}/confirm/",
        once=lambda: type(keyword).objects.filter(pk=keyword.pk, status="active").count(),
    )


@form("blocking:disable-keyword")
def _disable_keyword(w):
    keyword = _keyword_row(w, "active")
    return Post(
        w.make_user("senior_analyst"),
        f"/staff/blocking/keywords/{keyword.pk}/disable/",
        {"reason": "too broad"},
        lambda: type(keyword).objects.filter(pk=keyword.pk, status="disabled").count(),
    )


@form("blocking:publish")
def _publish(w):
    from openmnr.blocking.models import ListVersion

    return Post(w.make_user("senior_analyst"), "/staff/blocking/publish/", once=ListVersion.objects.count)


# --- industry ----------------------------------------------------------------------------------


@form("industry:credentials")
def _credential(w):
    from openmnr.industry.models import Credential

    provider = w.make_user("industry_member")
    return Post(
        w.make_user("administrator"),
        "/staff/industry/credentials/",
        {"provider": provider.pk},
        Credential.objects.filter(provider=provider).count,
    )


@form("industry:revoke")
def _revoke_credential(w):
    from openmnr.industry import credentials

    credential, _secret = credentials.issue(w.make_user("industry_member"))
    return Post(
        w.make_user("administrator"),
        f"/staff/industry/credentials/{credential.pk}/revoke/",
        once=lambda: type(credential).objects.filter(pk=credential.pk, revoked_at__isnull=False).count(),
    )


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
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/claim/", once=_audited("hotline.case.claim"))


@form("hotline:release")
def _release(w):
    case, _item, analyst = _case(w)
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/release/", once=_audited("hotline.case.release"))


@form("hotline:classify")
def _classify(w):
    _case_, item, analyst = _case(w)
    return Post(
        analyst, f"/staff/hotline/items/{item.pk}/classify/", CLASSIFIED, _audited("hotline.item.classify")
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
    return Post(analyst, f"/staff/hotline/cases/{case.pk}/site/", data, _audited("hotline.case.site"))


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
        once=_audited("hotline.report.handle"),
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
        _audited("hotline.hold.keep"),
    )


@form("hotline:propose")
def _propose_item(w):
    _case_, item, analyst = _classified(w)
    bank = w.make_bank()
    return Post(
        analyst,
        f"/staff/hotline/items/{item.pk}/propose/",
        {"bank": bank.pk},
        _audited("hotline.item.propose"),
    )


@form("hotline:reveal")
def _reveal(w):
    _case_, item, analyst = _case(w)
    return Post(analyst, f"/staff/hotline/items/{item.pk}/reveal/", once=_audited("hotline.media.reveal"))


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


# --- the sweep ---------------------------------------------------------------------------------


@dataclass
class World:
    make_user: object
    make_bank: object
    settings: object
    tmp_path: object
    shared: object

    def as_(self, user):
        """A separate client signed in as ``user`` (for the steps before the form)."""
        return sign_in_client(Client(), user)


@pytest.fixture
def world(make_user, make_bank, settings, tmp_path, shared):
    return World(make_user, make_bank, settings, tmp_path, shared)


def _staff_views():
    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name}", pattern.callback

    for name, callback in walk(get_resolver().url_patterns):
        if getattr(callback, "login_required", True) and not name.startswith(("admin:", "api:")):
            yield name, callback


def _handles_post(callback) -> bool:
    source = inspect.getsource(inspect.unwrap(callback))
    return "require_POST" in source or '"POST"' in source or "request.POST" in source


def test_every_staff_post_form_is_swept():
    posting = {name for name, callback in _staff_views() if _handles_post(callback)}
    assert posting, "the sweep found no form at all"
    swept = set(FORMS) | set(NOT_A_FORM) | set(COVERED_BY)
    assert posting - swept == set(), "a staff form not in FORMS (or NOT_A_FORM, COVERED_BY)"
    assert (set(FORMS) | set(COVERED_BY)) - posting == set(), "FORMS names a view that takes no POST"
    assert not set(FORMS) & set(COVERED_BY)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_successful_staff_form_redirects_to_a_page(name, world):
    post = FORMS[name](world)
    client = sign_in_client(Client(), post.user)
    before = post.once()
    response = client.post(post.url, post.data)
    assert response.status_code in (302, 303), (name, response.status_code, response.content[:400])
    location = response["Location"]
    assert not location.startswith(("/accounts/step-up/", "/accounts/sign-in/")), location
    errors = [m.message for m in response.wsgi_request._messages if m.level_tag == "error"]
    assert not errors, errors
    page = client.get(location)
    assert page.status_code == 200, (location, page.status_code)
    assert resolve(location.split("?")[0]).url_name, location
    assert (before, post.once()) == (0, 1), name
