"""Signed results packages: what one country sends another. Verified only under the key the receiver
configured for the country named; every change after signing is caught; OpenSSL alone can check the
signature."""

import io
import json
import shutil
import subprocess
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.mnr import results
from openmnr.core.referral import key_fingerprint

LIMIT = 1024 * 1024


def payload(country="Neighbourland", **changes):
    data = {
        "country": country,
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "framework": {"version": "mnr-2016", "digest": "a" * 64},
        "signed_off": {"at": "2026-02-15T10:00:00+00:00", "content_sha256": "b" * 64},
        "capabilities": [
            {
                "number": 12,
                "name": "CSEA hotline",
                "domain": "societal",
                "assessed": True,
                "current_level": 2,
                "target_level": 3,
                "confidence": "high",
                "criteria_met": ["12.1.a", "12.1.b", "12.2.a", "12.2.b", "12.2.c"],
                "live_indicators": [],
            }
        ],
        "plan": [{"capability": 12, "to_level": 3, "wave": 0, "due": "2026-05-16"}],
    }
    data.update(changes)
    return data


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


def keys_of(**countries):
    return lambda country: countries.get(country)


def rezip(package: bytes, change) -> bytes:
    """The package with its members passed through change({name: bytes}) -> {name: bytes}."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in change(members).items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_package_verifies_under_the_key_set_for_its_country(key):
    doc = results.ResultDocument(b"%PDF-1.4 decree", "pdf", 12, "Hotline decree", "application/pdf")
    package = results.write_results(payload(), key, [doc])
    verified = results.read_results(
        package, keys_of(Neighbourland=key.public_key()), max_document_bytes=LIMIT
    )
    assert verified.results["country"] == "Neighbourland"
    assert verified.results["capabilities"][0]["current_level"] == 2
    assert verified.results["signer"] == {
        "algorithm": "Ed25519",
        "key_sha256": key_fingerprint(key.public_key()),
    }
    assert verified.key_sha256 == key_fingerprint(key.public_key())
    (listed,) = verified.results["documents"]
    assert listed["title"] == "Hotline decree" and verified.documents[listed["sha256"]] == b"%PDF-1.4 decree"


def test_a_country_without_a_configured_key_is_refused(key):
    package = results.write_results(payload(), key)
    with pytest.raises(results.UnknownCountry, match="Neighbourland"):
        results.read_results(package, keys_of(Otherland=key.public_key()), max_document_bytes=LIMIT)


def test_another_countrys_key_is_refused_even_when_the_package_names_that_country(key):
    # Otherland signs a package that claims to come from Neighbourland.
    impostor = Ed25519PrivateKey.generate()
    package = results.write_results(payload("Neighbourland"), impostor)
    with pytest.raises(results.WrongKey):
        results.read_results(package, keys_of(Neighbourland=key.public_key()), max_document_bytes=LIMIT)


def test_every_change_after_signing_is_caught(key):
    package = results.write_results(
        payload(), key, [results.ResultDocument(b"%PDF-1.4 x", "pdf", 12, "x", "application/pdf")]
    )
    trusted = keys_of(Neighbourland=key.public_key())

    def raise_level(members):
        data = json.loads(members["results.json"])
        data["capabilities"][0]["current_level"] = 4
        members["results.json"] = json.dumps(data).encode()
        return members

    with pytest.raises(results.ContentChanged):
        results.read_results(rezip(package, raise_level), trusted, max_document_bytes=LIMIT)

    def swap_document(members):
        name = next(n for n in members if n.startswith("documents/"))
        members[name] = b"%PDF-1.4 other"
        return members

    with pytest.raises(results.DocumentMismatch, match="differs"):
        results.read_results(rezip(package, swap_document), trusted, max_document_bytes=LIMIT)

    def add_file(members):
        members["documents/extra.pdf"] = b"%PDF-1.4"
        return members

    with pytest.raises(results.DocumentMismatch, match="not in the signed results"):
        results.read_results(rezip(package, add_file), trusted, max_document_bytes=LIMIT)

    def drop_document(members):
        return {n: d for n, d in members.items() if not n.startswith("documents/")}

    with pytest.raises(results.DocumentMismatch, match="missing"):
        results.read_results(rezip(package, drop_document), trusted, max_document_bytes=LIMIT)
    with pytest.raises(results.DocumentMismatch, match="larger"):
        results.read_results(package, trusted, max_document_bytes=3)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: b"not a zip at all", id="not a zip"),
        pytest.param(lambda p: rezip(p, lambda m: {"results.json": m["results.json"]}), id="no signature"),
        pytest.param(lambda p: rezip(p, lambda m: {"results.sig": m["results.sig"]}), id="no results"),
        pytest.param(lambda p: rezip(p, lambda m: m | {"results.json": b"{not json"}), id="bad json"),
    ],
)
def test_what_is_not_a_package_is_refused_as_unreadable(key, damage):
    package = results.write_results(payload(), key)
    with pytest.raises(results.PackageUnreadable):
        results.read_results(
            damage(package), keys_of(Neighbourland=key.public_key()), max_document_bytes=LIMIT
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"capabilities": [dict(payload()["capabilities"][0], current_level=7)]},
        {"capabilities": [dict(payload()["capabilities"][0], number="12")]},
        {"period_start": "last year"},
        {"signed_off": {"at": "2026-02-15", "content_sha256": "not a hash"}},
        {"plan": [{"capability": 12}]},
    ],
)
def test_a_signed_document_that_is_not_results_is_refused(key, changes):
    package = results.write_results(payload(**changes), key)
    with pytest.raises(results.NotResults):
        results.read_results(package, keys_of(Neighbourland=key.public_key()), max_document_bytes=LIMIT)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_openssl_alone_can_check_the_signature(key, tmp_path):
    package = results.write_results(payload(), key)
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        archive.extract("results.json", tmp_path)
        archive.extract("results.sig", tmp_path)
    public = tmp_path / "neighbourland.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public, "-rawin"]
    ok = subprocess.run(
        [*command, "-in", tmp_path / "results.json", "-sigfile", tmp_path / "results.sig"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout
    (tmp_path / "results.json").write_text(
        (tmp_path / "results.json").read_text().replace('"current_level": 2', '"current_level": 3')
    )
    bad = subprocess.run(
        [*command, "-in", tmp_path / "results.json", "-sigfile", tmp_path / "results.sig"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0
