"""The URL list end to end: cases assessed illegal become entries, licensees download signed
snapshots and diffs with their key, confirm hits privately, and entries drop off on removal."""

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.utils import timezone

from openmnr.audit.models import AuditEvent
from openmnr.blocking import services
from openmnr.core.urllist import listformat, oprf
from openmnr.core.urllist.client import UrlListClient
from openmnr.core.urllist.expressions import expression_hash
from openmnr.hotline import services as hotline
from openmnr.takedown import services as takedown
from openmnr.takedown.models import TakedownCase

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keys(settings, tmp_path):
    settings.DEBUG = True  # the list's signing key is generated on first use
    settings.VAR_DIR = tmp_path


@pytest.fixture
def licensee(make_user, client):
    from openmnr.accounts import apikeys

    owner = make_user("blocking_licensee")
    _, text = apikeys.create_api_key(owner=owner, name="resolver", scopes=["blocking.download_list"])
    return text


class ApiTransport:
    """The reference client's transport over Django's test client (the same calls HttpTransport makes)."""

    def __init__(self, client, key):
        self.client, self.headers = client, {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        self.confirm_bodies = []

    def _ok(self, response):
        assert response.status_code == 200, response.content
        return response.json()

    def snapshot(self):
        return self._ok(self.client.get("/api/v1/urllist/snapshot", **self.headers))

    def diff(self, from_version):
        return self._ok(self.client.get(f"/api/v1/urllist/diff?from_version={from_version}", **self.headers))

    def confirm(self, prefix, blinded):
        body = {"prefix": prefix.hex(), "blinded": base64.b64encode(blinded).decode()}
        self.confirm_bodies.append(body)
        return self._ok(
            self.client.post("/api/v1/urllist/confirm", body, content_type="application/json", **self.headers)
        )


def _public_key(client, key):
    pem = client.get("/api/v1/urllist/public-key", HTTP_AUTHORIZATION=f"Bearer {key}").content
    return serialization.load_pem_public_key(pem)


def _wait_passes():
    """The licensee's last download moves back by the list's minimum wait (the server's clock)."""
    from django.conf import settings
    from django.db.models import F

    from openmnr.blocking.models import LicenseeDownload

    LicenseeDownload.objects.update(
        last_at=F("last_at") - timedelta(seconds=settings.BLOCKING_MIN_WAIT_SECONDS)
    )


def _confirm_removal(case_id):
    TakedownCase.objects.filter(pk=case_id).update(confirmed_at=timezone.now(), removed_at=timezone.now())


def test_a_licensee_blocks_live_cases_and_stops_when_removal_is_confirmed(client, licensee):
    first = hotline.file_demo_report("https://files.example/album/1.jpg?utm_source=x", "test")
    second = hotline.file_demo_report("https://other.example/p/2", "test")
    takedown.open_case(first.id, timezone.now())
    assert services.publish().version == 1
    assert services.publish() is None, "nothing changed: no new version"

    resolver = UrlListClient(ApiTransport(client, licensee), _public_key(client, licensee))
    resolver.update(now=0)
    assert resolver.state.version == 1 and len(resolver.state.prefixes) == 2
    assert resolver.check("http://FILES.example/album/./1.jpg").listed
    assert resolver.check("https://other.example/p/2#x").listed
    assert not resolver.check("https://files.example/album/2.jpg").listed

    _confirm_removal(first.id)
    version = services.publish()
    assert (version.version, version.count, version.removed) == (2, 1, 1)
    _wait_passes()
    assert resolver.update(now=resolver.state.min_wait_seconds + 1)
    assert resolver.state.version == 2
    assert not resolver.check("https://files.example/album/1.jpg").listed
    assert resolver.check("https://other.example/p/2").listed
    assert second.id  # still listed: its takedown is not finished


def test_every_download_is_audited_without_the_entries(client, licensee):
    hotline.file_demo_report("https://files.example/secret-path/1.jpg", "test")
    services.publish()
    client.get("/api/v1/urllist/snapshot", HTTP_AUTHORIZATION=f"Bearer {licensee}")
    _wait_passes()
    client.get("/api/v1/urllist/diff?from_version=1", HTTP_AUTHORIZATION=f"Bearer {licensee}")
    events = AuditEvent.objects.filter(action="blocking.list_download").order_by("seq")
    assert [e.detail["kind"] for e in events] == ["snapshot", "diff"]
    assert all(e.actor for e in events)
    assert "secret-path" not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


def test_the_server_sees_only_the_bucket_and_the_same_kind_of_request_for_any_url(client, licensee):
    """Two checks of different URLs that share the listed bucket: what reaches the server (the request
    bodies, and what it writes to its audit log) differs only in the random blinded element."""
    url = "https://files.example/album/1.jpg"
    hotline.file_demo_report(url, "test")
    services.publish()
    transport = ApiTransport(client, licensee)
    resolver = UrlListClient(transport, _public_key(client, licensee))
    resolver.update(now=0)
    bucket = expression_hash("files.example/album/1.jpg")[:4]
    assert resolver.check(url).listed
    audit_before = AuditEvent.objects.filter(action="blocking.confirm").count()
    # Another URL's expression asked about in the same bucket: the request looks the same.
    blinding, blinded = oprf.blind("someone-else.example/")
    answer = transport.confirm(bucket, blinded)
    assert not oprf.is_listed(
        "someone-else.example/",
        blinding,
        base64.b64decode(answer["evaluated"]),
        [base64.b64decode(o) for o in answer["outputs"]],
    )
    (first, second) = transport.confirm_bodies
    assert first.keys() == second.keys() == {"prefix", "blinded"}
    assert first["prefix"] == second["prefix"] == bucket.hex()
    details = list(AuditEvent.objects.filter(action="blocking.confirm").values_list("detail", flat=True))
    assert len(details) == audit_before + 1 and details[0] == details[-1] == {"mode": "oprf"}


def test_bad_input_gets_a_clear_refusal(client, licensee):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {licensee}"}
    assert client.get("/api/v1/urllist/snapshot", **auth).status_code == 404  # nothing published yet
    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    for body in (
        {"prefix": "zz", "blinded": base64.b64encode(bytes(32)).decode()},
        {"prefix": "00000000", "blinded": base64.b64encode(bytes(32)).decode()},
        {"prefix": "00000000", "blinded": "not base64!"},
    ):
        response = client.post("/api/v1/urllist/confirm", body, content_type="application/json", **auth)
        assert response.status_code == 400 and response.json()["detail"], body
    assert client.get("/api/v1/urllist/diff?from_version=9", **auth).status_code == 404


def test_only_licensees_keys_download(client, make_user):
    from openmnr.accounts import apikeys

    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    member = make_user("industry_member")
    _, text = apikeys.create_api_key(owner=member, name="platform", scopes=["banks.match_hashes"])
    assert client.get("/api/v1/urllist/snapshot", HTTP_AUTHORIZATION=f"Bearer {text}").status_code == 403
    assert client.get("/api/v1/urllist/snapshot").status_code == 401


def test_the_full_hash_mode_returns_the_bucket(client, licensee):
    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    digest = expression_hash("files.example/1")
    response = client.post(
        "/api/v1/urllist/full-hashes",
        {"prefix": digest[:4].hex()},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {licensee}",
    )
    assert response.json() == {"full_hashes": [digest.hex()]}


def test_documents_are_signed_and_checksummed(client, licensee):
    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    document = client.get("/api/v1/urllist/snapshot", HTTP_AUTHORIZATION=f"Bearer {licensee}").json()
    payload = listformat.verify(document, _public_key(client, licensee))
    assert payload["checksum"] == listformat.checksum([expression_hash("files.example/1")[:4]])
    assert payload["min_wait_seconds"] > 0 and payload["prefix_bytes"] == 4


def test_the_clock_publishes_changes_at_most_every_five_minutes():
    hotline.file_demo_report("https://files.example/1", "test")
    now = timezone.now()
    assert services.clock_job(now=now).version == 1
    hotline.file_demo_report("https://files.example/2", "test")
    assert services.clock_job(now=now + timedelta(minutes=1)) is None
    assert services.clock_job(now=now + timedelta(minutes=6)).count == 2
    assert services.clock_job(now=now + timedelta(minutes=12)) is None, "nothing changed"


def test_a_licensee_asking_before_the_minimum_wait_gets_429_and_nothing_else(client, licensee):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {licensee}"}
    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    first = client.get("/api/v1/urllist/snapshot", **auth)
    assert first.status_code == 200
    for path in ("/api/v1/urllist/snapshot", "/api/v1/urllist/diff?from_version=1"):
        again = client.get(path, **auth)
        assert again.status_code == 429, path
        assert again.json() == {"error": "too_soon", "detail": again.json()["detail"], "fields": {}}
        assert "files.example" not in again.content.decode() and "payload" not in again.json()
        wait = int(again["Retry-After"])
        assert 0 < wait <= first.json()["payload"]["min_wait_seconds"]
    downloads = AuditEvent.objects.filter(action="blocking.list_download").count()
    assert downloads == 1, "a refused request is no download"
    _wait_passes()
    assert client.get("/api/v1/urllist/diff?from_version=1", **auth).status_code == 200
    # The one exception: a client whose diff does not apply fetches a snapshot at once, once.
    assert client.get("/api/v1/urllist/snapshot", **auth).status_code == 200
    assert client.get("/api/v1/urllist/snapshot", **auth).status_code == 429


def test_the_wait_is_per_licensee(client, licensee, make_user):
    from openmnr.accounts import apikeys

    hotline.file_demo_report("https://files.example/1", "test")
    services.publish()
    _, other = apikeys.create_api_key(
        owner=make_user("blocking_licensee"), name="proxy", scopes=["blocking.download_list"]
    )
    assert client.get("/api/v1/urllist/snapshot", HTTP_AUTHORIZATION=f"Bearer {licensee}").status_code == 200
    assert client.get("/api/v1/urllist/snapshot", HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 200
