"""The staff forms of tests/web/test_post_redirect_get.py (accounts, banks, blocking, industry): each
builds the state its form needs through the apps' services and returns a valid ``Post``."""

import io
from dataclasses import dataclass, field

from openmnr.audit.models import AuditEvent


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


def audited(action, **filters):
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


def _partner_list(w, redistribute=False):
    from openmnr.blocking.services import partners

    return partners.register("vendor", "file", redistribute=redistribute, by=w.make_user("administrator"))


@form("blocking:partners")
def _add_partner_list(w):
    from blocking.partner_server import PARTNER_PEM
    from openmnr.blocking.models import PartnerList

    data = {
        "name": "hotline-b",
        "kind": "openmnr",
        "source_url": "http://127.0.0.1:9/api/v1/urllist/export",
        "public_key_pem": PARTNER_PEM,
        "min_wait_seconds": "0",
    }
    return Post(
        w.make_user("administrator"),
        "/staff/blocking/partners/",
        data,
        PartnerList.objects.filter(name="hotline-b").count,
    )


@form("blocking:partner")
def _edit_partner_list(w):
    partner = _partner_list(w)
    return Post(
        w.make_user("administrator"),
        f"/staff/blocking/partners/{partner.pk}/",
        {"redistribute": "on", "min_wait_seconds": "0"},
        audited("blocking.partner_update"),
    )


@form("blocking:partner-upload")
def _upload_partner_list(w):
    upload = io.BytesIO(b"https://bad.example/1\n")
    upload.name = "list.txt"
    partner = _partner_list(w)
    return Post(
        w.make_user("administrator"),
        f"/staff/blocking/partners/{partner.pk}/upload/",
        {"file": upload},
        audited("blocking.partner_import", outcome="success"),
    )


@form("blocking:partner-fetch")
def _fetch_partner_list(w):
    from django_tasks_db.models import DBTaskResult

    from blocking.partner_server import PARTNER_PEM
    from openmnr.blocking.services import partners

    partner = partners.register(
        "hotline-b",
        "openmnr",
        redistribute=False,
        source_url="http://127.0.0.1:9/api/v1/urllist/export",
        public_key_pem=PARTNER_PEM,
        by=w.make_user("administrator"),
    )
    return Post(
        w.make_user("senior_analyst"),
        f"/staff/blocking/partners/{partner.pk}/fetch/",
        once=DBTaskResult.objects.filter(task_path__endswith="fetch_partner_list").count,
    )


@form("blocking:partner-remove")
def _remove_partner_list(w):
    partner = _partner_list(w)
    return Post(
        w.make_user("administrator"),
        f"/staff/blocking/partners/{partner.pk}/remove/",
        {"confirm": "yes"},
        audited("blocking.partner_remove"),
    )


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
