"""The evidence store: what goes in comes out unchanged, unreadable on disk, and any change is caught."""

import base64
import hashlib
import os
import stat

import pytest

from openmnr.core.evidence import (
    EvidenceNotFound,
    EvidenceStore,
    IntegrityError,
    InvalidKey,
    WrongKey,
    generate_key,
    load_key,
)


@pytest.fixture
def key():
    return os.urandom(32)


@pytest.fixture
def store(tmp_path, key):
    return EvidenceStore(tmp_path / "evidence", key)


@pytest.fixture
def jpeg(shared):
    return (shared / "corpus" / "natural" / "astronaut-00.jpg").read_bytes()


def stored_files(store):
    return [p for p in store.directory.rglob("*") if p.is_file()]


def test_round_trip_returns_the_bytes_and_their_digest(store, jpeg):
    evidence_id, digest = store.put(jpeg)
    assert digest == hashlib.sha256(jpeg).hexdigest()
    assert store.get(evidence_id, digest) == jpeg
    assert store.get(evidence_id, digest.upper()) == jpeg


def test_a_second_store_on_the_same_folder_and_key_reads_the_items(tmp_path, key, jpeg):
    evidence_id, digest = EvidenceStore(tmp_path, key).put(jpeg)
    assert EvidenceStore(tmp_path, key).get(evidence_id, digest) == jpeg


def test_empty_content_round_trips(store):
    evidence_id, digest = store.put(b"")
    assert store.get(evidence_id, digest) == b""


def test_on_disk_there_is_no_plain_content_no_original_name_and_no_digest(store, jpeg):
    evidence_id, digest = store.put(jpeg)
    [path] = stored_files(store)
    content = path.read_bytes()
    assert jpeg[:64] not in content and jpeg[-64:] not in content
    assert digest not in path.name and digest.encode() not in content
    assert bytes.fromhex(digest) not in content
    assert path.name == evidence_id
    assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(store.directory.stat().st_mode) & 0o077 == 0


def test_the_same_content_twice_gets_two_ids_and_two_different_files(store, jpeg):
    first, digest_one = store.put(jpeg)
    second, digest_two = store.put(jpeg)
    assert first != second and digest_one == digest_two
    one, two = sorted(stored_files(store))
    assert one.read_bytes() != two.read_bytes()  # a fresh nonce per item


@pytest.mark.parametrize("where", [0, 10, 20, 40, -1])
def test_any_flipped_byte_is_detected(store, jpeg, where):
    evidence_id, digest = store.put(jpeg)
    [path] = stored_files(store)
    content = bytearray(path.read_bytes())
    content[where] ^= 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(IntegrityError):
        store.get(evidence_id, digest)


def test_truncation_is_detected(store, jpeg):
    evidence_id, digest = store.put(jpeg)
    [path] = stored_files(store)
    for length in (len(path.read_bytes()) - 1, 30, 5, 0):
        path.write_bytes(path.read_bytes()[:length])
        with pytest.raises(IntegrityError):
            store.get(evidence_id, digest)


def test_a_file_swapped_for_another_item_is_detected(store, jpeg):
    first, first_digest = store.put(jpeg)
    second, second_digest = store.put(b"another item")
    (store.directory / first[:2] / first).write_bytes((store.directory / second[:2] / second).read_bytes())
    # Even with the other item's digest, the id bound into the encryption does not match.
    for digest in (first_digest, second_digest):
        with pytest.raises(IntegrityError):
            store.get(first, digest)


def test_a_digest_that_does_not_match_is_refused(store, jpeg):
    evidence_id, digest = store.put(jpeg)
    with pytest.raises(IntegrityError):
        store.get(evidence_id, hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(IntegrityError):
        store.get(evidence_id, "")


def test_a_wrong_key_is_told_apart_from_tampering(tmp_path, jpeg):
    evidence_id, digest = EvidenceStore(tmp_path, os.urandom(32)).put(jpeg)
    with pytest.raises(WrongKey):
        EvidenceStore(tmp_path, os.urandom(32)).get(evidence_id, digest)


def test_unknown_and_malformed_ids_are_not_found(store, tmp_path):
    (tmp_path / "secret").write_bytes(b"outside the store")
    for evidence_id in ["0" * 32, "../secret", "../../secret", "", "A" * 32, "0" * 31, None]:
        with pytest.raises(EvidenceNotFound):
            store.get(evidence_id, "0" * 64)


def test_delete_removes_the_item(store, jpeg):
    evidence_id, digest = store.put(jpeg)
    store.delete(evidence_id)
    assert stored_files(store) == []
    with pytest.raises(EvidenceNotFound):
        store.get(evidence_id, digest)
    with pytest.raises(EvidenceNotFound):
        store.delete(evidence_id)


def test_no_temporary_file_is_left_behind(store, jpeg):
    for _ in range(3):
        store.put(jpeg)
    assert all(not p.name.startswith(".tmp") for p in stored_files(store))
    assert len(stored_files(store)) == 3


def test_keys_load_from_hex_and_base64_forms(key):
    for text in [
        key.hex(),
        key.hex().upper(),
        base64.b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
        f"  {base64.b64encode(key).decode()}\n",
    ]:
        assert load_key(text) == key, text


def test_a_generated_key_loads_and_works(tmp_path):
    key = load_key(generate_key())
    store = EvidenceStore(tmp_path, key)
    assert store.get(*store.put(b"item")) == b"item"
    assert generate_key() != generate_key()


@pytest.mark.parametrize(
    "text",
    ["", "not a key", "00" * 31, "00" * 33, base64.b64encode(b"x" * 16).decode(), "g" * 64, "@" * 44],
)
def test_bad_key_text_is_a_typed_error(text):
    with pytest.raises(InvalidKey):
        load_key(text)


@pytest.mark.parametrize("key", [b"short", b"x" * 33, "0" * 32])
def test_a_store_refuses_a_key_of_the_wrong_size(tmp_path, key):
    with pytest.raises(InvalidKey):
        EvidenceStore(tmp_path, key)
