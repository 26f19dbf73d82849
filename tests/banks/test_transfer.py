"""Import and export: ThreatExchange's local file format, CSV and JSON Lines; exports encrypted."""

import io
import random

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import crypto, services
from openmnr.banks.models import BankEntry, Purpose
from openmnr.core import lists

PASSPHRASE = "correct horse battery staple"


def _entries(count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    kinds = {"pdq": 32, "md5": 16, "sha256": 32}
    return [(kind, rng.randbytes(kinds[kind]).hex()) for kind in rng.choices(list(kinds), k=count)]


def _as_local(entries) -> bytes:
    names = {"pdq": "pdq", "md5": "video_md5", "sha256": "video_sha256"}
    return "".join(f"{names[kind]} {value}\n" for kind, value in entries).encode()


@pytest.fixture
def senior(make_user):
    return make_user("senior_analyst")


def _stored(bank):
    return sorted(bank.entries.filter(status="active").values_list("signal_type", "value"))


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["local", "csv", "json"])
def test_export_then_import_gives_the_same_bank(make_bank, senior, fmt):
    source = make_bank(Purpose.PARTNER_LIST)
    entries = _entries(60)
    services.import_entries(
        source, _as_local(entries), fmt="local", by=senior, classification="nationally_illegal"
    )
    assert _stored(source) == sorted(entries)

    name, sealed = services.export_bank(source, fmt=fmt, passphrase=PASSPHRASE, by=senior)
    assert name.endswith(crypto.SUFFIX)
    copy = make_bank(Purpose.PARTNER_LIST)
    batch = services.import_entries(
        copy, sealed, fmt=fmt, by=senior, classification="baseline", passphrase=PASSPHRASE
    )
    assert (batch.read, batch.added) == (60, 60)
    assert _stored(copy) == sorted(entries)
    if fmt != "local":  # CSV and JSON carry the classification; the local format cannot
        assert set(copy.entries.values_list("classification", flat=True)) == {"nationally_illegal"}
    assert AuditEvent.objects.filter(
        action="bank.export", object_id=str(source.pk), detail__entries=60
    ).exists()


@pytest.mark.django_db
def test_an_export_cannot_be_read_without_the_passphrase(make_bank, senior):
    bank = make_bank(Purpose.PARTNER_LIST)
    entries = _entries(20)
    services.import_entries(bank, _as_local(entries), fmt="local", by=senior, classification="baseline")
    _, sealed = services.export_bank(bank, fmt="csv", passphrase=PASSPHRASE, by=senior)
    for _, value in entries:
        assert value.encode() not in sealed and bytes.fromhex(value) not in sealed
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(sealed, "another passphrase entirely")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(sealed[:-1] + bytes([sealed[-1] ^ 1]), PASSPHRASE)
    other = make_bank(Purpose.PARTNER_LIST)
    with pytest.raises(services.InvalidInput):
        services.import_entries(other, sealed, fmt="csv", by=senior, classification="baseline")
    with pytest.raises(services.InvalidInput):
        services.import_entries(
            other, sealed, fmt="csv", by=senior, classification="baseline", passphrase="wrong one here"
        )
    assert not other.entries.exists()
    plain = crypto.decrypt(sealed, PASSPHRASE).decode()
    assert sorted((r.signal_type, r.value) for r in lists.read_csv(plain.splitlines())) == sorted(entries)


@pytest.mark.django_db
def test_exports_need_a_long_passphrase_and_the_permission(make_bank, senior, make_user):
    bank = make_bank(Purpose.PARTNER_LIST)
    with pytest.raises(services.InvalidInput):
        services.export_bank(bank, fmt="local", passphrase="short", by=senior)
    with pytest.raises(services.NotAllowed):
        services.export_bank(bank, fmt="local", passphrase=PASSPHRASE, by=make_user("analyst"))
    refusals = AuditEvent.objects.filter(action="bank.export").order_by("seq")
    assert [(e.outcome, e.detail["reason"]) for e in refusals] == [
        ("failure", "InvalidInput"),
        ("denied", "NotAllowed"),
    ]


@pytest.mark.django_db
def test_a_bad_line_stops_the_import_and_adds_nothing(make_bank, senior):
    bank = make_bank(Purpose.PARTNER_LIST)
    good = _as_local(_entries(5))
    with pytest.raises(services.InvalidInput, match="line 6"):
        services.import_entries(bank, good + b"pdq 1234\n", fmt="local", by=senior, classification="baseline")
    with pytest.raises(services.InvalidInput, match="record 1"):
        services.import_entries(
            bank, b"signal_type,value\nurl," + b"a" * 64, fmt="csv", by=senior, classification="baseline"
        )
    with pytest.raises(services.InvalidInput):
        services.import_entries(
            bank, b"\xff\xfe\x00garbage", fmt="json", by=senior, classification="baseline"
        )
    assert not BankEntry.objects.exists()
    assert AuditEvent.objects.filter(action="bank.import", outcome="failure").count() == 3


@pytest.mark.django_db
def test_duplicates_are_skipped_and_bare_values_carry_a_classification(make_bank, senior):
    bank = make_bank(Purpose.PARTNER_LIST)
    value = "ab" * 32
    csv = f"signal_type,value,classification\npdq,{value},not_illegal\npdq,{value.upper()},\n".encode()
    batch = services.import_entries(bank, csv, fmt="csv", by=senior, classification="baseline", category="x")
    assert (batch.read, batch.added) == (2, 1)
    entry = bank.entries.get()
    assert (entry.classification, entry.category) == ("not_illegal", "")
    again = services.import_entries(
        bank, f"pdq {value}\n".encode(), fmt="local", by=senior, classification="baseline"
    )
    assert (again.read, again.added) == (1, 0)
    with pytest.raises(services.InvalidInput, match="classification"):
        services.import_entries(
            bank,
            b"signal_type,value,classification\npdq," + b"c" * 64 + b",Category A\n",
            fmt="csv",
            by=senior,
            classification="baseline",
        )


@pytest.mark.django_db
def test_the_import_command_takes_lists_too_large_for_an_upload(make_bank, senior, tmp_path, monkeypatch):
    from django.core.management import CommandError, call_command

    source = make_bank(Purpose.PARTNER_LIST)
    entries = _entries(30)
    services.import_entries(source, _as_local(entries), fmt="local", by=senior, classification="baseline")
    _, sealed = services.export_bank(source, fmt="json", passphrase=PASSPHRASE, by=senior)
    path = tmp_path / "list.jsonl.omnrenc"
    path.write_bytes(sealed)
    target = make_bank()
    monkeypatch.setenv("LIST_PASSPHRASE", PASSPHRASE)
    out = io.StringIO()
    call_command(
        "bank_import", str(target.pk), str(path), "--by", senior.username, "--format", "json",
        "--passphrase-env", "LIST_PASSPHRASE", stdout=out,
    )  # fmt: skip
    assert "added 30 entries (awaiting confirmation of the import)" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("bank_import", str(target.pk), str(path), "--by", senior.username, "--format", "json")


@pytest.mark.django_db
def test_text_fields_survive_an_import_unchanged(make_bank, senior):
    bank = make_bank(Purpose.PARTNER_LIST)
    value = "cd" * 32
    text = f'signal_type,value,classification,source\npdq,{value},baseline:A\\B,"list \\N of X\\t"\n'
    services.import_entries(bank, text.encode(), fmt="csv", by=senior, classification="baseline")
    entry = bank.entries.get()
    assert (entry.category, entry.source_ref) == ("A\\B", "list \\N of X\\t")
