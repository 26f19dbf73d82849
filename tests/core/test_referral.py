"""Law-enforcement referral packages: signed, with encrypted evidence, and verified item by item."""

import argparse
import hashlib
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from openmnr.core import referral
from openmnr.core.referral import (
    DecryptionFailed,
    DigestMismatch,
    EvidenceItem,
    EvidenceMissing,
    ManifestChanged,
    PackageUnreadable,
    Referral,
    ReferralError,
    UnlistedFile,
    WrongKey,
    verify,
    write_referral,
)

SCREENSHOT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # stands in for a benign screenshot
PAGE = b"<html><body>a page that is not abuse material</body></html>"
PDQ = "f" * 64
SIGNALS = [{"signal_type": "pdq", "value": PDQ}, {"signal_type": "md5", "value": "0" * 32}]


@pytest.fixture
def keys():
    return {"hotline": Ed25519PrivateKey.generate(), "police": X25519PrivateKey.generate()}


@pytest.fixture
def package(tmp_path, keys):
    path = tmp_path / "case-2026-0042.zip"
    write_referral(
        path,
        Referral(
            case={"reference": "PT-2026-0042", "hotline": "Example Hotline"},
            urls=["https://www.example.pt/gallery/1"],
            hosting_trace={"hostname": "www.example.pt", "asn": 64500, "country": "PT"},
            classifications=[{"media": 1, "category": "baseline", "confirmed_by": "senior-1"}],
            signals=SIGNALS,
            timestamps={
                "reported_at": "2026-11-28T10:00:00+00:00",
                "assessed_at": "2026-11-28T10:20:00+00:00",
            },
        ),
        keys["hotline"],
        evidence=[
            EvidenceItem("screenshot-1.png", SCREENSHOT, "image/png"),
            EvidenceItem("page.html", PAGE, "text/html"),
        ],
        recipient_key=keys["police"].public_key(),
        created_at=datetime(2026, 11, 28, 11, 0, tzinfo=UTC),
    )
    return path


def rewrite(path, name, change):
    """Copy the package with entry `name` passed through `change` (None adds nothing new)."""
    copy = path.with_name("changed.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == name else data)
    return copy


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def test_round_trip_verifies_and_decrypts_every_item(package, keys):
    public = keys["hotline"].public_key()
    without_key = verify(package, public)
    assert without_key.manifest["case"]["reference"] == "PT-2026-0042"
    assert [item.path for item in without_key.items] == [
        "evidence/screenshot-1.png",
        "evidence/page.html",
        "evidence/signals.json",
    ]
    assert all(item.encrypted for item in without_key.items)
    assert without_key.contents == {}  # encrypted, and no key to open them

    opened = verify(package, public, decryption_key=keys["police"])
    assert opened.contents["evidence/screenshot-1.png"] == SCREENSHOT
    assert opened.contents["evidence/page.html"] == PAGE
    assert json.loads(opened.contents["evidence/signals.json"]) == SIGNALS


def test_manifest_lists_the_sha256_of_every_item_and_no_signal_value(package):
    with zipfile.ZipFile(package) as zipped:
        manifest_text = zipped.read("manifest.json").decode()
        stored = {name: zipped.read(name) for name in zipped.namelist() if name.startswith("evidence/")}
    manifest = json.loads(manifest_text)
    by_path = {item["path"]: item for item in manifest["items"]}
    assert by_path["evidence/screenshot-1.png"]["sha256"] == hashlib.sha256(SCREENSHOT).hexdigest()
    assert by_path["evidence/page.html"]["sha256"] == hashlib.sha256(PAGE).hexdigest()
    for path, data in stored.items():
        assert by_path[path]["stored_sha256"] == hashlib.sha256(data).hexdigest()
        assert SCREENSHOT not in data and PAGE not in data  # stored encrypted
    assert manifest["signals"] == {
        "path": "evidence/signals.json",
        "count": 2,
        "signal_types": ["md5", "pdq"],
    }
    assert PDQ not in manifest_text


def test_a_changed_manifest_byte_fails_the_signature(package, keys):
    changed = rewrite(package, "manifest.json", lambda data: data.replace(b"PT-2026-0042", b"PT-2026-0043"))
    with pytest.raises(ManifestChanged, match="manifest.json was changed"):
        verify(changed, keys["hotline"].public_key())


def test_a_changed_evidence_byte_is_named(package, keys):
    changed = rewrite(package, "evidence/screenshot-1.png", flip_last_byte)
    with pytest.raises(DigestMismatch) as failure:
        verify(changed, keys["hotline"].public_key())
    assert failure.value.item == "evidence/screenshot-1.png"
    assert "evidence/screenshot-1.png" in str(failure.value)
    assert hashlib.sha256(SCREENSHOT).hexdigest() not in str(failure.value)  # digests are never printed


def test_a_wrong_public_key_is_told_apart_from_a_changed_manifest(package):
    with pytest.raises(WrongKey, match="names signing key sha256:"):
        verify(package, Ed25519PrivateKey.generate().public_key())


def test_an_added_or_a_removed_file_fails(package, keys, tmp_path):
    public = keys["hotline"].public_key()
    added = tmp_path / "added.zip"
    shutil.copy(package, added)
    with zipfile.ZipFile(added, "a") as zipped:
        zipped.writestr("evidence/extra.png", b"slipped in later")
    with pytest.raises(UnlistedFile) as failure:
        verify(added, public)
    assert failure.value.item == "evidence/extra.png"

    removed = tmp_path / "removed.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(removed, "w") as target:
        for name in source.namelist():
            if name != "evidence/page.html":
                target.writestr(name, source.read(name))
    with pytest.raises(EvidenceMissing, match="evidence/page.html"):
        verify(removed, public)


def test_a_wrong_decryption_key_fails_clearly(package, keys):
    with pytest.raises(DecryptionFailed, match="cannot be decrypted"):
        verify(package, keys["hotline"].public_key(), decryption_key=X25519PrivateKey.generate())


def test_signals_and_evidence_never_leave_unencrypted(tmp_path, keys):
    with pytest.raises(ReferralError, match="only encrypted"):
        write_referral(tmp_path / "p.zip", Referral(case={}, urls=[], signals=SIGNALS), keys["hotline"])
    with pytest.raises(ReferralError, match="only encrypted"):
        write_referral(
            tmp_path / "p.zip",
            Referral(case={}, urls=[]),
            keys["hotline"],
            evidence=[EvidenceItem("a.png", b"x")],
        )
    assert not (tmp_path / "p.zip").exists()

    # URLs, trace and classifications alone may go unencrypted.
    plain = tmp_path / "plain.zip"
    write_referral(
        plain, Referral(case={"reference": "PT-1"}, urls=["https://example.pt/x"]), keys["hotline"]
    )
    assert verify(plain, keys["hotline"].public_key()).manifest["urls"] == ["https://example.pt/x"]


def test_bad_item_names_are_refused(tmp_path, keys):
    for name in ("../escape.png", "evidence/a.png", ".hidden", ""):
        with pytest.raises(ReferralError, match="item name"):
            write_referral(
                tmp_path / "p.zip",
                Referral(case={}, urls=[]),
                keys["hotline"],
                evidence=[EvidenceItem(name, b"x")],
                recipient_key=keys["police"].public_key(),
            )


def test_what_is_not_a_package_is_unreadable(tmp_path, keys):
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"hello")
    with pytest.raises(PackageUnreadable):
        verify(not_zip, keys["hotline"].public_key())
    no_signature = tmp_path / "nosig.zip"
    with zipfile.ZipFile(no_signature, "w") as zipped:
        zipped.writestr("manifest.json", "{}")
    with pytest.raises(PackageUnreadable, match="manifest.sig is missing"):
        verify(no_signature, keys["hotline"].public_key())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_openssl_alone_can_check_the_signature(package, keys, tmp_path):
    public_pem = tmp_path / "hotline.pub.pem"
    public_pem.write_bytes(
        keys["hotline"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with zipfile.ZipFile(package) as zipped:
        zipped.extract("manifest.json", tmp_path)
        zipped.extract("manifest.sig", tmp_path)
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public_pem, "-rawin"]
        + ["-in", tmp_path / "manifest.json", "-sigfile", tmp_path / "manifest.sig"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Signature Verified Successfully" in result.stdout


# --- the command `openmnr referral verify` ---------------------------------------------------------


def write_pem(path, key, private):
    if private:
        data = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        data = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(data)
    return path


def run_verify(argv):
    parser = argparse.ArgumentParser(prog="openmnr referral verify")
    referral.add_arguments(parser)
    return referral.run(parser.parse_args(argv))


def test_command_verifies_and_reports(package, keys, tmp_path, capsys):
    public = write_pem(tmp_path / "hotline.pub.pem", keys["hotline"].public_key(), private=False)
    police = write_pem(tmp_path / "police.pem", keys["police"], private=True)
    assert run_verify([str(package), "--public-key", str(public), "--decryption-key", str(police)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {package}")
    assert "case PT-2026-0042" in out and "3 items (3 encrypted), all intact (content checked)" in out


def test_command_fails_a_tampered_package_and_an_unusable_key(package, keys, tmp_path, capsys):
    public = write_pem(tmp_path / "hotline.pub.pem", keys["hotline"].public_key(), private=False)
    changed = rewrite(package, "evidence/page.html", flip_last_byte)
    assert run_verify([str(changed), "--public-key", str(public)]) == 1
    assert "FAILED: evidence/page.html" in capsys.readouterr().err

    assert run_verify([str(package), "--public-key", str(tmp_path / "missing.pem")]) == 2
    assert "cannot read Ed25519 public key file" in capsys.readouterr().err

    x25519_public = write_pem(tmp_path / "x.pem", keys["police"].public_key(), private=False)
    assert run_verify([str(package), "--public-key", str(x25519_public)]) == 2
    assert "not an Ed25519 public key" in capsys.readouterr().err
