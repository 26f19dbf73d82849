"""Interoperability with ThreatExchange: our exported lists read by the `threatexchange` package
match the same items there, and its haystack and needles lists match the same through our bank
and match service as by brute force."""

import random

import pytest
from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal as TxPdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from openmnr.banks import crypto, services
from openmnr.banks.models import BankEntry, Purpose

PASSPHRASE = "interop passphrase 123"
TX_TYPES = {t.get_name(): t for t in (TxPdqSignal, VideoMD5Signal, VideoSHA256Signal)}
OURS = {"pdq": "pdq", "video_md5": "md5", "video_sha256": "sha256"}


def _flip(value: str, bits: int, rng: random.Random) -> str:
    number = int(value, 16)
    for bit in rng.sample(range(256), bits):
        number ^= 1 << bit
    return f"{number:064x}"


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.fixture
def people(make_user):
    return make_user("analyst"), make_user("senior_analyst")


@pytest.mark.django_db
def test_an_exported_local_file_matches_the_same_items_in_threatexchange(make_bank, people, tmp_path):
    analyst, senior = people
    rng = random.Random(4)
    pdqs = [rng.randbytes(32).hex() for _ in range(40)]
    md5s = [rng.randbytes(16).hex() for _ in range(10)]
    shas = [rng.randbytes(32).hex() for _ in range(10)]
    lines = (
        [f"pdq {v}" for v in pdqs] + [f"video_md5 {v}" for v in md5s] + [f"video_sha256 {v}" for v in shas]
    )
    bank = make_bank(Purpose.PARTNER_LIST)
    services.import_entries(
        bank, "\n".join(lines).encode(), fmt="local", by=senior, classification="baseline"
    )

    _, sealed = services.export_bank(bank, fmt="local", passphrase=PASSPHRASE, by=senior)
    exported = tmp_path / "bank.txt"
    exported.write_bytes(crypto.decrypt(sealed, PASSPHRASE))
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(name="ours", filename=str(exported)))
    (delta,) = api.fetch_iter([], None)
    fetched = sorted(delta.updates)
    assert len(fetched) == 60
    indices = {
        name: signal_type.get_index_cls().build([(value, value) for kind, value in fetched if kind == name])
        for name, signal_type in TX_TYPES.items()
    }

    queries = (
        [{"pdq": _flip(v, rng.choice([0, 10, 25, 31, 32, 60]), rng)} for v in pdqs]
        + [{"pdq": rng.randbytes(32).hex()} for _ in range(10)]
        + [{"md5": v} for v in md5s[:5]]
        + [{"sha256": v} for v in shas[:5]]
        + [{"md5": rng.randbytes(16).hex()}]
    )
    ours = services.match(queries, user=analyst)
    stored = dict(BankEntry.objects.values_list("pk", "value"))
    for query, result in zip(queries, ours, strict=True):
        ((kind, value),) = query.items()
        tx_name = {v: k for k, v in OURS.items()}[kind]
        theirs = {match.metadata for match in indices[tx_name].query(value)}
        assert {stored[m.entry_id] for m in result.matches} == theirs, kind
    assert sum(r.matched for r in ours) > 30  # the comparison covers real matches, not only misses


@pytest.mark.django_db
def test_haystack_and_needles_match_as_by_brute_force(make_bank, people, shared):
    analyst, senior = people
    folder = shared / "vectors" / "pdq" / "hashlists"
    haystack = sorted(
        {line.strip() for line in (folder / "haystack.txt").read_text().splitlines() if line.strip()}
    )
    needles = [line.strip() for line in (folder / "needles.txt").read_text().splitlines() if line.strip()]
    bank = make_bank(Purpose.PARTNER_LIST)
    data = "".join(f"pdq {value}\n" for value in haystack).encode()
    services.import_entries(bank, data, fmt="local", by=senior, classification="baseline")

    results = services.match([{"pdq": needle} for needle in needles], user=analyst)
    stored = dict(BankEntry.objects.values_list("pk", "value"))
    found_any = 0
    for needle, result in zip(needles, results, strict=True):
        expected = {(value, _distance(needle, value)) for value in haystack if _distance(needle, value) <= 31}
        assert {(stored[m.entry_id], m.distance) for m in result.matches} == expected
        found_any += bool(expected)
    assert found_any > 0
