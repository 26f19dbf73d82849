"""Videos in the banks: vPDQ entries, four eyes, matching by upload and by signal, the change log,
snapshots, import and export, and bad input.

The bank entry is made from the reference implementation's vPDQ of a benign test video (as a
partner's list would carry it); the uploads are hashed here, so the tests also show that our
hashing and the reference agree closely enough to match."""

import hashlib
import json

import pytest

from openmnr.audit.models import AuditEvent
from openmnr.banks import crypto, matcher, services, snapshots
from openmnr.banks.models import BankEntry, Purpose
from openmnr.core.signals import vpdq

from .test_api import SCOPES, upload

PASSPHRASE = "a long enough passphrase"


@pytest.fixture
def videos(shared):
    """(video bytes, reference vPDQ text) of the listed stand-in and of an unrelated video."""
    folder = shared / "vectors" / "pdq" / "video"

    def pair(name):
        return (folder / f"{name}.mp4").read_bytes(), (folder / f"{name}.vpdq.txt").read_text()

    return {"listed": pair("doorknob-hd-no-bar"), "other": pair("test-padded-dimensions")}


@pytest.fixture
def industry(make_user):
    from openmnr.accounts import apikeys

    _, text = apikeys.create_api_key(owner=make_user("industry_member"), name="platform", scopes=SCOPES)
    return {"Authorization": f"Bearer {text}"}


def propose_video(bank, frames: str, analyst, seniors=()) -> BankEntry:
    entry = services.propose_entry(
        bank, signal_type="vpdq", value=frames, classification="baseline", category="A", by=analyst
    )
    for senior in seniors:
        entry = services.confirm_entry(entry, by=senior)
    return entry


@pytest.fixture
def video_bank(make_bank, make_user, seniors, videos):
    """A bank of confirmed CSAM holding the listed video's vPDQ only (no digest could match)."""
    bank = make_bank(name="Confirmed CSAM (video stand-ins)")
    return bank, propose_video(bank, videos["listed"][1], make_user("analyst"), seniors)


def _match(signals: dict, user) -> services.ItemResult:
    (result,) = services.match([signals], user=user)
    return result


@pytest.mark.django_db
def test_a_video_entry_is_one_row_identified_by_its_frames_and_matched_after_four_eyes(
    make_bank, make_user, seniors, videos
):
    bank, analyst = make_bank(), make_user("analyst")
    entry = propose_video(bank, videos["listed"][1], analyst)
    canonical = vpdq.to_text(vpdq.from_text(videos["listed"][1]))
    assert entry.value == hashlib.sha256(canonical.encode()).hexdigest()
    assert entry.frames == canonical and entry.masked_value == entry.value[:8] + "…"
    assert entry.status == "pending"
    query = {"vpdq": videos["listed"][1]}
    assert not _match(query, analyst).matched  # pending: no matcher sees it

    services.confirm_entry(entry, by=seniors[0])
    assert not _match(query, analyst).matched
    services.confirm_entry(entry, by=seniors[1])
    assert _match(query, analyst).action == "confirmed_csam"

    with pytest.raises(services.DuplicateEntry):  # the same frames, written differently
        propose_video(bank, videos["listed"][1].replace("\n", "\r\n"), analyst)
    proposal = AuditEvent.objects.get(action="bank_entry.propose", outcome="success")
    assert entry.value not in json.dumps(proposal.detail) and "dadb999c" not in json.dumps(proposal.detail)


@pytest.mark.slow
@pytest.mark.django_db
def test_an_analyst_uploading_the_video_sees_the_entry_and_both_percentages(staff_client, video_bank, videos):
    bank, entry = video_bank
    client, _ = staff_client("analyst")
    for response in (
        upload(client, videos["listed"][0], name="clip.mp4"),
        client.post("/api/v1/match", {"vpdq": videos["listed"][1]}, "application/json"),
    ):
        assert response.status_code == 200, response.content
        (result,) = response.json()["results"]
        assert result["match"] and result["action"] == "confirmed_csam"
        (found,) = result["matches"]
        assert (found["entry_id"], found["bank"], found["signal_type"]) == (entry.pk, bank.name, "vpdq")
        assert found["query_match_percent"] >= vpdq.MATCH_PERCENT
        assert found["entry_match_percent"] >= vpdq.MATCH_PERCENT
        assert found["distance"] == 100 - min(found["query_match_percent"], found["entry_match_percent"])
        if response.request["CONTENT_TYPE"].startswith("multipart"):  # our hashing, not the reference
            ours = vpdq.hash_video(videos["listed"][0])
            stored = vpdq.from_text(entry.frames)
            assert found["query_match_percent"] == vpdq.match_percent(ours, stored)
            assert found["entry_match_percent"] == vpdq.match_percent(stored, ours)
        assert entry.value not in response.content.decode()  # nor any stored frame
        assert entry.frames.split(",")[2] not in response.content.decode()

    other = upload(client, videos["other"][0], name="other.mp4").json()["results"]
    assert other == [{"match": False, "action": None, "matches": []}]


@pytest.mark.django_db
def test_an_industry_key_learns_only_match_and_action_for_videos(client, video_bank, videos, industry):
    answers = [
        upload(client, videos["listed"][0], industry, name="clip.mp4").json(),
        client.post(
            "/api/v1/match", {"vpdq": videos["listed"][1]}, "application/json", headers=industry
        ).json(),
        upload(client, videos["other"][0], industry, name="other.mp4").json(),
    ]
    hit, miss = {"match": True, "action": "confirmed_csam"}, {"match": False, "action": None}
    assert answers == [{"results": [hit]}, {"results": [hit]}, {"results": [miss]}]
    events = AuditEvent.objects.filter(action="banks.match").order_by("seq")
    assert [e.detail for e in events] == [
        {"items": 1, "matched": 1},
        {"items": 1, "matched": 1},
        {"items": 1, "matched": 0},
    ]


@pytest.mark.django_db
def test_hashing_a_video_gives_its_vpdq_md5_and_sha256(client, videos, industry):
    data, reference = videos["listed"]
    response = upload(client, data, industry, path="/api/v1/hash", name="clip.mp4")
    assert response.status_code == 200, response.content
    (result,) = response.json()["results"]
    assert result["md5"] == hashlib.md5(data).hexdigest()
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    assert result["pdq"] is None
    ours, theirs = vpdq.from_text(result["vpdq"]), vpdq.from_text(reference)
    assert len(ours) == len(theirs) == 120
    assert vpdq.match_percent(ours, theirs) == vpdq.match_percent(theirs, ours) == 100
    assert not BankEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "0,100,SECRETHEX" + "0" * 55 + ",0.000",
        "0,100," + "ab" * 32,
        "0,101," + "ab" * 32 + ",0.0",
        "",
    ],
    ids=["bad-hex", "three-fields", "quality-over-100", "empty"],
)
def test_bad_vpdq_text_gets_a_typed_error_that_does_not_echo_it(client, industry, make_bank, make_user, text):
    response = client.post("/api/v1/match", {"vpdq": text}, "application/json", headers=industry)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_input" and "vpdq" in body["detail"]
    assert "SECRETHEX" not in body["detail"] and "abab" not in body["detail"]

    with pytest.raises(services.InvalidInput) as refused:
        services.propose_entry(
            make_bank(), signal_type="vpdq", value=text, classification="baseline", by=make_user("analyst")
        )
    assert "vpdq" in str(refused.value) and "SECRETHEX" not in str(refused.value)
    assert "abab" not in str(refused.value)


@pytest.mark.django_db
def test_frame_lists_beyond_the_cap_are_refused(client, industry, make_bank, make_user):
    analyst = make_user("analyst")
    too_long = ("0,100," + "ab" * 32 + ",0.000\n") * 40_000  # over 3 million characters
    with pytest.raises(services.InvalidInput, match="vpdq: at most 3,000,000 characters"):
        services.match([{"vpdq": too_long}], user=analyst)
    with pytest.raises(services.InvalidInput, match="vpdq frames are at most 3,000,000 characters"):
        services.propose_entry(
            make_bank(), signal_type="vpdq", value=too_long, classification="baseline", by=analyst
        )
    # Through the API, the cap on a JSON body (OPENMNR_MAX_FORM_BYTES, 1 MiB by default) answers first.
    response = client.post("/api/v1/match", {"vpdq": too_long}, "application/json", headers=industry)
    assert response.status_code == 413 and response.json()["error"] == "too_large"


@pytest.mark.django_db
def test_a_disabled_video_entry_stops_matching_in_another_process(settings, video_bank, videos, seniors):
    _, entry = video_bank
    other_process = matcher.Matcher(settings.BANKS_INDEX_DIR, poll_seconds=0)
    query = [{"vpdq": videos["listed"][1]}]
    (hits,) = other_process.lookup(query, {})
    assert [(h.entry_id, h.signal_type) for h in hits] == [(entry.pk, "vpdq")]
    assert hits[0].query_percent == hits[0].entry_percent == 100 and hits[0].distance == 0

    services.disable_entry(entry, by=seniors[0], reason="listed in error")
    assert other_process.lookup(query, {}) == [[]]  # the change log took its frames out
    assert len(other_process.indices["vpdq"]) == 0


@pytest.mark.django_db
def test_a_snapshot_holds_the_video_frames_and_a_new_process_matches_from_it(video_bank, videos, tmp_path):
    _, entry = video_bank
    saved = snapshots.write_snapshot(tmp_path)
    assert (tmp_path / json.loads((tmp_path / "current.json").read_text())["dir"] / "vpdq.idx").is_file()
    good = [f for f in vpdq.from_text(entry.frames) if f.quality >= vpdq.QUALITY_THRESHOLD]
    assert 0 < len(saved["vpdq"]) <= len(good)  # near-identical frames are thinned out

    loaded = snapshots.read_snapshot(tmp_path)
    assert len(loaded["vpdq"]) == len(saved["vpdq"])
    assert list(loaded["vpdq"].query(good[0].pdq, 0).ids) == [entry.pk]
    fresh = matcher.Matcher(tmp_path, poll_seconds=0)
    (hits,) = fresh.lookup([{"vpdq": videos["listed"][1]}], {})
    assert fresh.loaded_from == "snapshot" and [h.entry_id for h in hits] == [entry.pk]


@pytest.mark.django_db
def test_a_snapshot_from_before_videos_is_not_used(video_bank, videos, tmp_path):
    _, entry = video_bank
    snapshots.write_snapshot(tmp_path)
    (tmp_path / json.loads((tmp_path / "current.json").read_text())["dir"] / "vpdq.idx").unlink()
    fresh = matcher.Matcher(tmp_path, poll_seconds=0)
    (hits,) = fresh.lookup([{"vpdq": videos["listed"][1]}], {})
    assert fresh.loaded_from == "database" and [h.entry_id for h in hits] == [entry.pk]


@pytest.mark.django_db
def test_a_video_entry_goes_out_and_back_in_json_lines_only(make_bank, make_user, seniors, videos):
    senior = seniors[0]
    source = make_bank(Purpose.PARTNER_LIST)
    entry = propose_video(source, videos["listed"][1], make_user("analyst"))
    services.propose_entry(source, signal_type="md5", value="0" * 32, classification="baseline", by=senior)

    for fmt in ("local", "csv"):
        with pytest.raises(services.InvalidInput, match="vpdq.*JSON Lines"):
            services.export_bank(source, fmt=fmt, passphrase=PASSPHRASE, by=senior)
    _, sealed = services.export_bank(source, fmt="json", passphrase=PASSPHRASE, by=senior)
    lines = [json.loads(line) for line in crypto.decrypt(sealed, PASSPHRASE).decode().splitlines()]
    assert {r["signal_type"] for r in lines} == {"vpdq", "md5"}

    target = make_bank(Purpose.PARTNER_LIST)
    batch = services.import_entries(
        target, sealed, fmt="json", by=senior, classification="baseline", passphrase=PASSPHRASE
    )
    assert (batch.read, batch.added) == (2, 2)
    copied = target.entries.get(signal_type="vpdq")
    assert (copied.value, copied.frames, copied.category) == (entry.value, entry.frames, entry.category)
    (result,) = services.match([{"vpdq": videos["listed"][1]}], user=senior)
    assert {m.bank_id for m in result.matches} == {source.pk, target.pk}

    csv_list = "signal_type,value\nvpdq," + entry.value + "\n"
    with pytest.raises(services.InvalidInput, match="line 2: CSV cannot carry vpdq"):
        services.import_entries(target, csv_list.encode(), fmt="csv", by=senior, classification="baseline")
    with pytest.raises(services.InvalidInput, match="line 1: signal type not carried"):
        services.import_entries(
            target, f"vpdq {entry.value}\n".encode(), fmt="local", by=senior, classification="baseline"
        )


def _renumbered(*texts: str) -> str:
    """One vPDQ text of several videos played one after the other."""
    frames = [f for text in texts for f in vpdq.from_text(text)]
    return vpdq.to_text([f._replace(number=i, timestamp=i / 30) for i, f in enumerate(frames)])


@pytest.mark.django_db
def test_a_clip_does_not_match_a_longer_video_it_is_part_of_nor_the_reverse(make_bank, make_user, videos):
    analyst = make_user("analyst")
    listed, other = videos["listed"][1], videos["other"][1]
    compilation = propose_video(make_bank(Purpose.PARTNER_LIST), _renumbered(listed, other), analyst)

    assert not _match({"vpdq": listed}, analyst).matched  # all of the clip is in it, not 80% of it
    (hit,) = _match({"vpdq": _renumbered(listed, other)}, analyst).matches
    assert hit.entry_id == compilation.pk and hit.distance == 0
    clip = propose_video(make_bank(Purpose.PARTNER_LIST), listed, analyst)
    assert [m.entry_id for m in _match({"vpdq": _renumbered(listed, other)}, analyst).matches] == [
        compilation.pk
    ]
    assert [m.entry_id for m in _match({"vpdq": listed}, analyst).matches] == [clip.pk]


def _flip(value: str, bits) -> str:
    number = int(value, 16)
    for bit in bits:
        number ^= 1 << bit
    return f"{number:064x}"


@pytest.mark.django_db
def test_frames_left_out_of_the_index_as_near_duplicates_still_count(make_bank, make_user):
    """The index keeps one of an entry's near-identical frames; a video within 31 bits of the frames
    left out (and 37 of the one kept) is still found, with the exact percentages."""
    analyst = make_user("analyst")
    kept = "d" * 64
    dropped = _flip(kept, range(6))  # 6 bits from the kept frame: left out of the index
    query = _flip(dropped, range(100, 131))  # 31 bits from the dropped frame, 37 from the kept one
    entry_text = vpdq.to_text(
        [vpdq.Frame(0, 100, kept, 0.0)] + [vpdq.Frame(i, 100, dropped, i / 30) for i in range(1, 10)]
    )
    entry = propose_video(make_bank(Purpose.PARTNER_LIST), entry_text, analyst)
    (hit,) = _match({"vpdq": "".join(f"{i},100,{query},{i / 30:.3f}\n" for i in range(5))}, analyst).matches
    assert (hit.entry_id, hit.query_match_percent, hit.entry_match_percent) == (entry.pk, 100, 90)
    assert hit.distance == 10
    assert len(matcher.get_matcher().indices["vpdq"]) == 1  # the dropped frame really is not indexed
