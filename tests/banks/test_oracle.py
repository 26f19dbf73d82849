"""The match answers are no inversion oracle: the attack an outside tester ran (256 one-bit flips of a
PDQ 20 bits from a confirmed entry, in three calls, reading the distances) recovers nothing.

A key learns only match/action, whoever owns it; an API-only account gets no session; and every
caller, analysts included, may try only BANKS_NEAR_VARIANTS_PER_HOUR near-variants of one stored
hash an hour."""

import random
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from helpers import sign_in_client
from openmnr.accounts import apikeys
from openmnr.accounts.models import RateBucket
from openmnr.audit.models import AuditEvent
from openmnr.banks import services

SCOPES = ["banks.match_hashes", "banks.hash_media"]
pytestmark = pytest.mark.django_db


def _flip(value: str, bits) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


@pytest.fixture
def stored(make_bank, make_user, seniors):
    """A confirmed entry's PDQ, and a starting point 20 bits from it, as the tester had."""
    rng = random.Random(11)
    value = f"{rng.getrandbits(256):064x}"
    bank = make_bank()
    entry = services.propose_entry(
        bank, signal_type="pdq", value=value, classification="baseline", by=make_user("analyst")
    )
    for senior in seniors:
        services.confirm_entry(entry, by=senior)
    return value, _flip(value, rng.sample(range(256), 20))


def _attack(client, start, headers=None):
    """Ask the 256 one-bit flips of `start`, 100 a call; rebuild the stored hash from the distances
    where the answers carry them. Returns (statuses, recovered value or None)."""
    flips = [_flip(start, [bit]) for bit in range(256)]
    statuses, distances = [], {}
    for first in range(0, 256, 100):
        batch = flips[first : first + 100]
        response = client.post(
            "/api/v1/match", {"items": [{"pdq": v} for v in batch]}, "application/json", headers=headers or {}
        )
        statuses.append(response.status_code)
        if response.status_code != 200:
            continue
        for bit, result in enumerate(response.json()["results"], first):
            for match in result.get("matches", []):
                distances[bit] = match["distance"]
    if len(distances) < 256:
        return statuses, None
    wrong = [bit for bit, distance in distances.items() if distance == 19]  # flipping it came closer
    return statuses, _flip(start, wrong)


def test_without_the_variant_limit_an_analysts_distances_would_give_the_hash_away(
    client, stored, make_user, settings
):
    """The oracle is real, which is why the limit exists: with every distance, the value comes out."""
    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 1000
    value, start = stored
    sign_in_client(client, make_user("analyst"))
    statuses, recovered = _attack(client, start)
    assert statuses == [200, 200, 200] and recovered == value


def test_an_industry_key_learns_nothing_from_the_flips(client, stored, make_user, settings):
    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 1000  # even without the variant limit
    value, start = stored
    _, text = apikeys.create_api_key(owner=make_user("industry_member"), name="k", scopes=SCOPES)
    statuses, recovered = _attack(client, start, {"Authorization": f"Bearer {text}"})
    assert statuses == [200, 200, 200] and recovered is None


@pytest.mark.parametrize("role", ["industry_member", "partner_hotline"])
def test_an_api_only_account_cannot_read_distances_by_session(client, stored, make_user, role):
    _, start = stored
    sign_in_client(client, make_user(role))  # the attack's way in: a session with a second factor
    statuses, recovered = _attack(client, start)
    assert statuses == [401, 401, 401] and recovered is None


def test_an_analyst_is_stopped_after_the_near_variant_limit_and_it_is_audited(
    client, stored, make_user, settings
):
    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 32
    _, start = stored
    sign_in_client(client, make_user("analyst"))
    statuses, recovered = _attack(client, start)
    assert statuses == [429, 429, 429] and recovered is None  # refused whole: no distance leaks
    denied = AuditEvent.objects.filter(action="banks.match", outcome="denied")
    assert denied.count() == 3 and "near_variants_of" in denied.first().detail


def test_the_limit_counts_different_variants_per_entry_and_caller_for_an_hour(
    client, stored, make_user, settings
):
    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 3
    value, _ = stored
    _, text = apikeys.create_api_key(owner=make_user("industry_member"), name="k", scopes=SCOPES)
    _, other_text = apikeys.create_api_key(owner=make_user("industry_member"), name="k2", scopes=SCOPES)

    def ask(values, key=text):
        return client.post(
            "/api/v1/match",
            {"items": [{"pdq": v} for v in values]},
            "application/json",
            headers={"Authorization": f"Bearer {key}"},
        ).status_code

    near = [_flip(value, [bit]) for bit in range(5)]
    assert ask([value] * 10) == 200  # exact matches are not counted
    assert ask(near[:3]) == 200
    assert ask(near[:3] * 3) == 200  # the same three again: still three
    assert ask([near[3]]) == 429  # a fourth
    assert ask([near[3]], other_text) == 200  # another caller has its own count
    # No query value is kept, and the count is forgotten with its hour.
    stored_keys = " ".join(RateBucket.objects.values_list("key", flat=True))
    assert not any(v in stored_keys or v[:16] in stored_keys for v in [value, *near])
    later = timezone.now() + timedelta(hours=1, minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert ask([near[3]]) == 200


def test_the_match_page_is_limited_too(client, stored, make_user, settings):
    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 1
    value, _ = stored
    sign_in_client(client, make_user("analyst"))
    first = client.post("/staff/banks/match/", {"pdq": _flip(value, [1])})
    assert first.status_code == 200
    second = client.post("/staff/banks/match/", {"pdq": _flip(value, [2])})
    assert second.status_code == 400 and "too many near-variants" in second.content.decode()


def test_triage_is_not_limited(stored, settings):
    from openmnr.hotline.matching import triage_account

    settings.BANKS_NEAR_VARIANTS_PER_HOUR = 1
    value, _ = stored
    results = services.match([{"pdq": _flip(value, [bit])} for bit in range(5)], user=triage_account())
    assert all(r.matched for r in results)


def test_what_an_answer_reveals_follows_permissions_not_the_way_in(client, stored, make_user):
    """The same analyst learns the same by session and by a key holding the same permissions; a
    key without the permission to see the banks learns match/action only, whoever owns it."""
    value, _ = stored
    analyst = make_user("analyst")
    body = {"pdq": value}

    def by_key(scopes):
        _, text = apikeys.create_api_key(owner=analyst, name="k", scopes=scopes)
        return client.post("/api/v1/match", body, "application/json", headers={"X-API-Key": text}).json()

    full = by_key(["banks.match_hashes", "banks.view_banks"])["results"][0]
    assert full["matches"][0]["distance"] == 0
    assert by_key(["banks.match_hashes"]) == {"results": [{"match": True, "action": "confirmed_csam"}]}
    sign_in_client(client, analyst)
    by_session = client.post("/api/v1/match", body, "application/json").json()["results"][0]
    assert by_session == full
    with pytest.raises(apikeys.ApiKeyError):  # an industry key cannot be given what its role lacks
        apikeys.create_api_key(owner=make_user("industry_member"), name="x", scopes=["banks.view_banks"])
