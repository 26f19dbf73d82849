"""The banks read the signal registry: a signal type registered only in this test is hashed from
uploads, proposed, matched (in this process and in one started from a snapshot), exported and
imported, and appears in the API schema and on the match page, with no change to the banks app."""

import io

import pytest

from openmnr.banks import api, matcher, services, snapshots
from openmnr.banks.forms import MatchForm, ProposeForm
from openmnr.banks.models import BankEntry, Purpose, signal_types
from toy_signal import registered_toy

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def toy():
    with registered_toy() as cls:
        yield cls


@pytest.fixture
def pictures(shared):
    folder = shared / "corpus" / "natural"
    return (folder / "astronaut-01.jpg").read_bytes(), (folder / "camera-05.jpg").read_bytes()


def test_the_banks_hold_the_registrys_picture_and_video_types():
    assert list(signal_types()) == ["pdq", "md5", "sha256", "vpdq"]  # not url: a URL is no media
    assert [name for name, _ in ProposeForm().fields["signal_type"].choices] == ["pdq", "md5", "sha256"]
    assert list(api.Signals.model_fields) == ["pdq", "md5", "sha256", "vpdq"]


@pytest.mark.django_db
def test_a_new_signal_type_is_banked_and_matched(toy, make_bank, make_user, pictures, tmp_path):
    analyst, senior = make_user("analyst"), make_user("senior_analyst")
    bank = make_bank(Purpose.PARTNER_LIST)  # matched at once, no confirmation needed
    listed, other = pictures
    value = services.hash_upload(listed)["toy_blake2"].value
    entry = services.propose_entry(
        bank, signal_type="toy_blake2", value=value.upper(), classification="baseline", by=analyst
    )
    assert (entry.status, entry.value) == ("active", value)

    [by_value, by_upload, unrelated] = services.match(
        [{"toy_blake2": value}, services.upload_signals(listed), services.upload_signals(other)], user=analyst
    )
    assert [(m.entry_id, m.signal_type, m.distance) for m in by_value.matches] == [
        (entry.pk, "toy_blake2", 0)
    ]
    assert [m.entry_id for m in by_upload.matches] == [entry.pk] and by_upload.action == "partner_list"
    assert not unrelated.matched
    with pytest.raises(services.InvalidInput, match="toy BLAKE2 digest is 32 hexadecimal digits"):
        services.match([{"toy_blake2": "nothex"}], user=analyst)

    # A process started later loads the type's index from the snapshot.
    saved = snapshots.write_snapshot(tmp_path)
    assert len(saved["toy_blake2"]) == 1
    fresh = matcher.Matcher(tmp_path, poll_seconds=0)
    (hits,) = fresh.lookup([{"toy_blake2": value}], {})
    assert fresh.loaded_from == "snapshot" and [h.entry_id for h in hits] == [entry.pk]

    # Export and import carry it, in every format (the toy declares a local-format name).
    for fmt in ("local", "csv", "json"):
        _, sealed = services.export_bank(bank, fmt=fmt, passphrase=PASSPHRASE, by=senior)
        copy = make_bank(Purpose.PARTNER_LIST)
        services.import_entries(
            copy, sealed, fmt=fmt, by=senior, classification="baseline", passphrase=PASSPHRASE
        )
        assert list(copy.entries.values_list("signal_type", "value")) == [("toy_blake2", value)], fmt


@pytest.mark.django_db
def test_a_new_signal_type_needs_no_migration(toy):
    from django.core.management import call_command

    assert ("toy_blake2", "Toy BLAKE2") in BankEntry._meta.get_field("signal_type").choices
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits non-zero on a change
    assert "No changes detected" in out.getvalue()


def test_a_new_signal_type_appears_in_the_api_schema_and_the_match_page(toy):
    signals_schema = api.signals_schema().model_json_schema()
    assert signals_schema["properties"]["toy_blake2"]["description"] == toy.description
    assert signals_schema["additionalProperties"] is False
    assert "toy_blake2" in api.hashes_schema().model_fields
    form = MatchForm(data={"toy_blake2": "ab" * 16})
    assert form.fields["toy_blake2"].label == "Toy BLAKE2" and form.is_valid()
    assert form.signals() == {"toy_blake2": "ab" * 16}
