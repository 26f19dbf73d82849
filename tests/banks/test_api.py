"""The match and hash API: role-scoped answers, real images, rate limits and bad inputs."""

import functools
import hashlib
import io
import json
import random

import pytest
from PIL import Image

from helpers import bank_with_image
from openmnr.accounts import apikeys
from openmnr.audit.models import AuditEvent
from openmnr.banks import services
from openmnr.banks.models import BankEntry, Purpose

SCOPES = ["banks.match_hashes", "banks.hash_media"]


@pytest.fixture
def natural(shared):
    return shared / "corpus" / "natural"


@pytest.fixture
def listed(natural):
    """The benign stand-in for a listed picture, and an unrelated one from another source."""
    return (natural / "astronaut-01.jpg").read_bytes(), (natural / "chelsea-03.jpg").read_bytes()


@pytest.fixture
def industry(make_user):
    user = make_user("industry_member")
    _, text = apikeys.create_api_key(owner=user, name="platform", scopes=SCOPES)
    return user, {"Authorization": f"Bearer {text}"}


def upload(client, data: bytes, headers=None, path="/api/v1/match", name="picture.jpg"):
    return client.post(path, {"file": _named(data, name)}, headers=headers or {})


def _named(data: bytes, name: str):
    file = io.BytesIO(data)
    file.name = name
    return file


def _recoded(data: bytes) -> bytes:
    """The same picture resized to 70% and saved again at a lower JPEG quality."""
    image = Image.open(io.BytesIO(data))
    smaller = image.resize((image.width * 7 // 10, image.height * 7 // 10), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=70)
    return out.getvalue()


@pytest.fixture
def loaded(make_bank, make_user, seniors, listed):
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    return bank, bank_with_image(bank, listed[0], make_user("analyst"), seniors)


@pytest.mark.django_db
def test_industry_key_learns_only_match_and_action(client, loaded, listed, industry):
    _, headers = industry
    exact = upload(client, listed[0], headers)
    assert exact.status_code == 200, exact.content
    assert exact.json() == {"results": [{"match": True, "action": "confirmed_csam"}]}
    assert upload(client, _recoded(listed[0]), headers).json() == {
        "results": [{"match": True, "action": "confirmed_csam"}]
    }
    assert upload(client, listed[1], headers).json() == {"results": [{"match": False, "action": None}]}
    text = exact.content.decode()
    for forbidden in ("distance", "bank", "entry", "value", "classification", "pdq", "md5"):
        assert forbidden not in text


@pytest.mark.django_db
def test_an_analyst_gets_bank_entry_distance_and_classification(staff_client, loaded, listed):
    bank, hashes = loaded
    client, _ = staff_client("analyst")
    exact = upload(client, listed[0]).json()["results"][0]
    assert exact["match"] and exact["action"] == "confirmed_csam"
    by_type = {m["signal_type"]: m for m in exact["matches"]}
    assert set(by_type) == {"pdq", "md5"}
    assert by_type["pdq"]["distance"] == 0 and by_type["md5"]["distance"] == 0
    assert by_type["pdq"]["bank"] == bank.name and by_type["pdq"]["classification"] == "baseline"
    assert by_type["pdq"]["entry_id"] == BankEntry.objects.get(signal_type="pdq").pk
    assert hashes["pdq"].value not in json.dumps(exact)  # stored values are never returned

    recoded = upload(client, _recoded(listed[0])).json()["results"][0]
    assert [m["signal_type"] for m in recoded["matches"]] == ["pdq"]  # the bytes differ, the picture not
    assert 0 < recoded["matches"][0]["distance"] <= 31


@pytest.mark.django_db
def test_signals_as_json_single_and_batch(client, loaded, industry):
    _, hashes = loaded
    _, headers = industry
    single = client.post(
        "/api/v1/match", {"md5": hashes["md5"].value.upper()}, "application/json", headers=headers
    )
    assert single.json() == {"results": [{"match": True, "action": "confirmed_csam"}]}
    far = "0" * 64
    batch = client.post(
        "/api/v1/match",
        {"items": [{"pdq": far}, {"pdq": hashes["pdq"].value}, {"sha256": "a" * 64}]},
        "application/json",
        headers=headers,
    )
    assert [r["match"] for r in batch.json()["results"]] == [False, True, False]


@pytest.mark.django_db
def test_only_banks_open_to_the_caller_are_consulted(client, make_bank, make_user, seniors, listed, industry):
    user, headers = industry
    analyst = make_user("analyst")
    staff_only = make_bank(match_roles=["analyst", "senior_analyst"])
    bank_with_image(staff_only, listed[0], analyst, seniors)
    assert upload(client, listed[0], headers).json()["results"][0]["match"] is False

    for_this_member = make_bank(Purpose.PARTNER_LIST, match_roles=["senior_analyst"])
    for_this_member.match_accounts.add(user)
    batch = services.import_entries(
        for_this_member, f"pdq {'0' * 64}\n".encode(), fmt="local", by=seniors[0], classification="baseline"
    )
    services.confirm_import(batch, by=seniors[1])  # a shared list goes live with a second person
    other_user = make_user("industry_member")
    _, other_key = apikeys.create_api_key(owner=other_user, name="other", scopes=SCOPES)
    body = {"pdq": "0" * 64}
    assert client.post("/api/v1/match", body, "application/json", headers=headers).json()["results"][0] == {
        "match": True,
        "action": "partner_list",
    }
    other = client.post("/api/v1/match", body, "application/json", headers={"X-API-Key": other_key})
    assert other.json()["results"][0]["match"] is False

    for_this_member.enabled = False
    for_this_member.save()
    assert (
        client.post("/api/v1/match", body, "application/json", headers=headers).json()["results"][0]["match"]
        is False
    )


@pytest.mark.django_db
def test_hash_returns_the_signals_and_keeps_nothing(client, listed, industry):
    _, headers = industry
    response = upload(client, listed[0], headers, path="/api/v1/hash")
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["md5"] == hashlib.md5(listed[0]).hexdigest()
    assert result["sha256"] == hashlib.sha256(listed[0]).hexdigest()
    assert len(result["pdq"]) == 64 and result["pdq_quality"] >= 50 and not result["pdq_low_quality"]
    assert not BankEntry.objects.exists()
    event = AuditEvent.objects.get(action="banks.hash")
    assert event.detail == {"items": 1}


@pytest.mark.django_db
def test_every_match_call_is_audited_without_values(client, loaded, listed, industry):
    _, hashes = loaded
    _, headers = industry
    upload(client, listed[0], headers)
    client.post("/api/v1/match", {"pdq": "zz"}, "application/json", headers=headers)
    events = list(AuditEvent.objects.filter(action="banks.match").order_by("seq"))
    assert [(e.outcome, e.detail) for e in events] == [
        ("success", {"items": 1, "matched": 1}),
        ("failure", {"error": "invalid_input"}),
    ]
    assert events[0].actor.startswith("apikey:")
    every_detail = json.dumps([e.detail for e in AuditEvent.objects.all()])
    for value in (hashes["pdq"].value, hashes["md5"].value, hashes["sha256"].value):
        assert value not in every_detail


@pytest.mark.django_db
def test_each_key_is_rate_limited(client, make_user):
    owner = make_user("industry_member")
    _, text = apikeys.create_api_key(owner=owner, name="slow", scopes=SCOPES, rate_limit_per_minute=2)
    headers = {"Authorization": f"Bearer {text}"}
    codes = [
        client.post("/api/v1/match", {"md5": "0" * 32}, "application/json", headers=headers).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_callers_without_the_permission_are_refused(client, staff_client, make_user):
    owner = make_user("industry_member")
    _, scopeless = apikeys.create_api_key(owner=owner, name="no scopes", scopes=[])
    body = {"md5": "0" * 32}
    assert (
        client.post("/api/v1/match", body, "application/json", headers={"X-API-Key": scopeless}).status_code
        == 403
    )
    assert client.post("/api/v1/match", body, "application/json").status_code == 401
    coordinator, _ = staff_client("national_coordinator")
    assert coordinator.post("/api/v1/match", body, "application/json").status_code == 403


@functools.cache
def _big_png() -> bytes:
    """A blank picture just over the pixel cap: small in bytes, refused from its header."""
    out = io.BytesIO()
    Image.new("1", (8100, 8000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_body", "status", "code"),
    [
        (lambda jpeg: jpeg[: len(jpeg) // 3], 400, "corrupt_media"),
        (lambda jpeg: b"II*\x00" + b"\x00" * 200, 415, "unsupported_format"),
        (lambda jpeg: b"just some text", 415, "unsupported_format"),
        (lambda jpeg: b"", 400, "corrupt_media"),
        (lambda jpeg: _big_png(), 413, "too_large"),
    ],
    ids=["truncated-jpeg", "tiff", "text", "empty", "over-pixel-cap"],
)
def test_bad_uploads_get_a_typed_error(client, industry, listed, make_body, status, code):
    _, headers = industry
    for path in ("/api/v1/match", "/api/v1/hash"):
        response = upload(client, make_body(listed[0]), headers, path=path)
        assert response.status_code == status, (path, response.content)
        assert response.json()["error"] == code


@pytest.mark.django_db
def test_a_video_in_a_container_we_do_not_decode_is_refused(client, industry):
    # Videos in MP4/MOV, Matroska/WebM and AVI are hashed (tests/banks/test_vpdq.py); Flash video is not.
    _, headers = industry
    response = upload(client, b"FLV\x01\x05" + b"\x00" * 200, headers, name="clip.flv")
    assert response.status_code == 415 and response.json()["error"] == "unsupported_format"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ('{"pdq": "xyz"}', "application/json", 400, "invalid_input"),
        ('{"pdq": "' + "0" * 63 + '"}', "application/json", 400, "invalid_input"),
        ('{"phash": "' + "0" * 64 + '"}', "application/json", 400, "invalid_input"),
        ("{}", "application/json", 400, "invalid_input"),
        ('{"items": []}', "application/json", 400, "invalid_input"),
        ("{not json", "application/json", 400, "invalid_input"),
        ('["' + "0" * 64 + '"]', "application/json", 400, "invalid_input"),
        ("pdq 0000", "text/plain", 415, "unsupported_media_type"),
    ],
)
def test_bad_signal_bodies_get_a_typed_error(client, industry, body, content_type, status, code):
    _, headers = industry
    response = client.post("/api/v1/match", body, content_type, headers=headers)
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert "0" * 63 not in response.json()["detail"]  # errors never echo values


@pytest.mark.django_db
def test_batches_are_capped(settings, client, industry, listed):
    settings.BANKS_MATCH_BATCH_MAX = 2
    _, headers = industry
    body = {"items": [{"md5": "0" * 32}] * 3}
    response = client.post("/api/v1/match", body, "application/json", headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "too_many_items"
    files = {"file": [_named(listed[0], f"{i}.jpg") for i in range(3)]}
    response = client.post("/api/v1/hash", files, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "too_many_items"
    assert client.post("/api/v1/hash", {"other": "x"}, headers=headers).json()["error"] == "invalid_input"


@pytest.mark.django_db
def test_openapi_documents_both_bodies_and_the_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/match"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert set(operation["responses"]) >= {"200", "400", "413", "415"}
    json_body = json.dumps(operation["requestBody"]["content"]["application/json"]["schema"])
    assert '"items"' in json_body and '"pdq"' in json_body and "$ref" not in json_body
    assert "/api/v1/hash" in schema["paths"]


@pytest.mark.django_db
def test_large_uploads_never_touch_the_disk(client, industry, monkeypatch):
    import django.core.files.uploadedfile as uploadedfile

    def refuse(*args, **kwargs):
        raise AssertionError("an upload was written to a temporary file")

    monkeypatch.setattr(uploadedfile.tempfile, "NamedTemporaryFile", refuse)
    noise = Image.frombytes("RGB", (1100, 1100), random.Random(3).randbytes(1100 * 1100 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > 2 * 1024 * 1024  # above Django's in-memory threshold
    _, headers = industry
    response = upload(client, out.getvalue(), headers, path="/api/v1/hash", name="noise.png")
    assert response.status_code == 200
    assert response.json()["results"][0]["sha256"] == hashlib.sha256(out.getvalue()).hexdigest()


@pytest.mark.django_db
def test_a_malformed_multipart_body_is_refused(client, industry):
    _, headers = industry
    response = client.post(
        "/api/v1/match", b"--x\r\nnot a part", content_type="multipart/form-data; boundary=", headers=headers
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_input"
