"""No single person makes a hash matchable by others: one path per way a hash gets into a bank.

The outside tester's case: on an item page an analyst proposed to "Partner list (demo)", a bank
industry members match, and the hashes went live at once. Now an item is proposed only to banks
that need confirmation, and anything added to a bank that industry or partners match (proposed or
imported) waits for a senior analyst other than who added it; a bank for staff only takes entries
at once and cannot be shared while it holds entries nobody else confirmed."""

import hashlib
import random

import pytest

from helpers import sign_in_client
from openmnr.accounts import apikeys
from openmnr.audit.models import AuditEvent
from openmnr.banks import services
from openmnr.banks.models import Bank, BankEntry, Purpose

pytestmark = pytest.mark.django_db
SHARED = ["analyst", "senior_analyst", "industry_member", "partner_hotline"]
STAFF_ONLY = ["analyst", "senior_analyst"]


def _value(seed: int) -> str:
    return f"{random.Random(seed).getrandbits(256):064x}"


@pytest.fixture
def industry_asks(client, make_user):
    _, text = apikeys.create_api_key(
        owner=make_user("industry_member"), name="platform", scopes=["banks.match_hashes"]
    )

    def ask(value: str) -> bool:
        response = client.post(
            "/api/v1/match", {"pdq": value}, "application/json", headers={"Authorization": f"Bearer {text}"}
        )
        return response.json()["results"][0]["match"]

    return ask


@pytest.fixture
def partner_list(make_bank):
    return make_bank(
        Purpose.PARTNER_LIST, name="Partner list", match_roles=SHARED, provenance="From Hotline X"
    )


def test_an_analysts_proposal_to_a_shared_partner_list_waits_for_a_senior(
    partner_list, make_user, seniors, industry_asks
):
    analyst, value = make_user("analyst"), _value(1)
    entry = services.propose_entry(
        partner_list, signal_type="pdq", value=value, classification="baseline", by=analyst
    )
    assert entry.status == BankEntry.Status.PENDING and not industry_asks(value)
    with pytest.raises(services.NotAllowed):
        services.confirm_entry(entry, by=analyst)  # analysts do not confirm
    entry = services.confirm_entry(entry, by=seniors[0])
    assert entry.status == BankEntry.Status.ACTIVE and industry_asks(value)


def test_a_seniors_own_proposal_to_a_shared_bank_needs_another_senior(partner_list, seniors, industry_asks):
    value = _value(2)
    entry = services.propose_entry(
        partner_list, signal_type="pdq", value=value, classification="baseline", by=seniors[0]
    )
    with pytest.raises(services.FourEyesViolation):
        services.confirm_entry(entry, by=seniors[0])
    assert not industry_asks(value)
    services.confirm_entry(entry, by=seniors[1])
    assert industry_asks(value)


def test_an_import_into_a_shared_bank_goes_live_after_a_second_senior_who_sees_its_provenance(
    client, partner_list, seniors, industry_asks
):
    value = _value(3)
    batch = services.import_entries(
        partner_list,
        f"pdq {value}\n".encode(),
        fmt="local",
        by=seniors[0],
        classification="baseline",
        source_ref="Hotline X, list of 2026-12-01",
    )
    assert batch.activated_at is None and not industry_asks(value)
    sign_in_client(client, seniors[1])
    queue = client.get("/staff/banks/queue/").content.decode()
    assert "From Hotline X" in queue and "Hotline X, list of 2026-12-01" in queue and "0 of 1" in queue
    with pytest.raises(services.FourEyesViolation):
        services.confirm_import(batch, by=seniors[0])
    assert client.post(f"/staff/banks/imports/{batch.pk}/confirm/").status_code == 302
    assert industry_asks(value)


def test_a_staff_only_bank_takes_entries_at_once_and_industry_never_matches_it(
    make_bank, seniors, industry_asks
):
    bank = make_bank(Purpose.PARTNER_LIST, match_roles=STAFF_ONLY)
    value = _value(4)
    batch = services.import_entries(
        bank, f"pdq {value}\n".encode(), fmt="local", by=seniors[0], classification="baseline"
    )
    assert batch.activated_at is not None
    assert services.match([{"pdq": value}], user=seniors[1])[0].matched  # staff match it
    assert not industry_asks(value)


def test_a_staff_only_bank_with_unconfirmed_entries_cannot_be_shared(client, make_bank, make_user, seniors):
    bank = make_bank(Purpose.PARTNER_LIST, match_roles=STAFF_ONLY)
    services.import_entries(
        bank, f"pdq {_value(5)}\n".encode(), fmt="local", by=seniors[0], classification="baseline"
    )
    administrator = make_user("administrator")
    bank.match_roles = SHARED
    with pytest.raises(services.NotAllowed, match="never confirmed by a second person"):
        services.save_bank(bank, match_accounts=[], by=administrator)
    assert Bank.objects.get(pk=bank.pk).match_roles == STAFF_ONLY
    assert AuditEvent.objects.filter(action="bank.save", outcome="denied").exists()
    industry = make_user("industry_member")  # sharing with one account is sharing too
    with pytest.raises(services.NotAllowed):
        services.save_bank(Bank.objects.get(pk=bank.pk), match_accounts=[industry], by=administrator)

    sign_in_client(client, administrator)
    response = client.post(
        f"/staff/banks/{bank.pk}/edit/",
        {"name": bank.name, "purpose": "partner_list", "enabled": "on", "match_roles": SHARED},
    )
    assert response.status_code == 400 and "never confirmed by a second person" in response.content.decode()


def test_an_item_is_proposed_only_to_banks_that_need_confirmation(
    partner_list, make_bank, make_user, industry_asks
):
    from openmnr.hotline import assess
    from openmnr.hotline.errors import HotlineError
    from openmnr.hotline.models import Case, MediaItem

    csam = make_bank(Purpose.CONFIRMED_CSAM, name="Confirmed")
    staff_only = make_bank(Purpose.PARTNER_LIST, name="Staff only", match_roles=STAFF_ONLY)
    analyst = make_user("analyst")
    url = "https://example.org/page"
    case = Case.objects.create(url=url, url_sha256=hashlib.sha256(url.encode()).hexdigest(), state="triaged")
    item = MediaItem.objects.create(
        case=case,
        position=0,
        url=url + "/a.jpg",
        url_sha256="0" * 64,
        md5="1" * 32,
        sha256="2" * 64,
        pdq=_value(6),
        pdq_quality=100,
        assessment="baseline",
        assessed_by=analyst,
    )
    offered = dict(assess.bank_choices(analyst))
    assert set(offered.values()) == {"Confirmed", "Partner list"}  # not "Staff only"
    with pytest.raises(HotlineError):
        assess.propose_to_bank(item.pk, analyst, staff_only.pk)
    assert assess.propose_to_bank(item.pk, analyst, partner_list.pk) == 3
    assert set(partner_list.entries.values_list("status", flat=True)) == {"pending"}
    assert not industry_asks(item.pdq)  # the tester's attack: the hashes are not live
    assess.propose_to_bank(item.pk, analyst, csam.pk)
    assert set(csam.entries.values_list("status", flat=True)) == {"pending"}


def test_the_demo_partner_list_was_confirmed_by_a_second_senior(settings, tmp_path):
    import io

    from openmnr.web.demo import load_demo

    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    load_demo(io.StringIO())
    partner = Bank.objects.get(name="Partner list (demo)")
    [batch] = partner.imports.all()
    assert batch.activated_at is not None
    assert batch.confirmations.exclude(confirmed_by=batch.imported_by).count() == 1
