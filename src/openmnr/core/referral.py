"""Law-enforcement referral packages: one signed file per case, and its verification.

A package is a zip file holding:

    manifest.json   the case, URLs, hosting trace, classifications, timestamps, and for every item
                    its media type, size and SHA-256 (of the content and of the bytes stored)
    manifest.sig    the hotline's Ed25519 signature of manifest.json, 64 raw bytes
    evidence/NAME   the items: evidence files and signals.json (the case's hashes)

Signing the manifest covers everything: each item is bound to it by its digests. Items are
encrypted to the law-enforcement recipient's X25519 key with HPKE (RFC 9180, X25519 /
HKDF-SHA256 / AES-256-GCM, from `cryptography`), the item's path as HPKE `info` so that items cannot
be swapped. Signals and evidence may only leave encrypted (hashes can be partly inverted; the media
is evidence of a crime), so a recipient key is required whenever the referral carries either;
a package of URLs, trace and classifications alone may be written without one.

Anyone holding the hotline's public key can check a package without this code:
    unzip pkg.zip manifest.json manifest.sig
    openssl pkeyutl -verify -pubin -inkey hotline.pub.pem -rawin -in manifest.json -sigfile manifest.sig
and then compare `sha256sum evidence/*` with the manifest's `stored_sha256`.

Errors raised on purpose are subclasses of ReferralError; messages name the item that failed but
never print a digest (digests of evidence are hashes of the material).
"""

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

FORMAT = "openmnr-referral/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
ITEM_DIR = "evidence/"
SIGNALS_ITEM = "signals.json"
HPKE_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
HPKE_NAME = "HPKE X25519/HKDF-SHA256/AES-256-GCM"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
_ITEM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CHUNK = 1024 * 1024


class ReferralError(Exception):
    """Base of every error raised on purpose by this module."""


class KeyFileError(ReferralError):
    """A key file is missing, unreadable, or holds another kind of key."""


class PackageUnreadable(ReferralError):
    """The file is not a referral package (not a zip, manifest or signature missing, bad JSON)."""


class SignatureInvalid(ReferralError):
    """The signature does not check out."""


class WrongKey(SignatureInvalid):
    """The manifest names another signing key than the public key given."""


class ManifestChanged(SignatureInvalid):
    """The signature does not match manifest.json under the key that signed it: the manifest changed."""


class EvidenceError(ReferralError):
    """An item does not match the signed manifest. `item` names it."""

    def __init__(self, message: str, item: str):
        super().__init__(message)
        self.item = item


class EvidenceMissing(EvidenceError):
    pass


class DigestMismatch(EvidenceError):
    pass


class UnlistedFile(EvidenceError):
    """The package holds a file the signed manifest does not list."""


class DecryptionFailed(EvidenceError):
    """An item could not be decrypted with the key given."""


@dataclass(frozen=True)
class EvidenceItem:
    name: str  # file name inside evidence/: letters, digits, ".", "_", "-"
    data: bytes
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Referral:
    """What the hotline refers. Everything must be JSON-ready; signals are dicts such as
    {"signal_type": "pdq", "value": "..."} and are stored as an encrypted item, not in the manifest."""

    case: dict
    urls: list[str]
    hosting_trace: dict | None = None
    classifications: list[dict] = field(default_factory=list)
    signals: list[dict] = field(default_factory=list)
    timestamps: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedItem:
    path: str  # inside the package, e.g. "evidence/screenshot-1.png"
    role: str  # "evidence" or "signals"
    media_type: str
    size: int
    encrypted: bool


@dataclass(frozen=True)
class VerifiedReferral:
    manifest: dict
    signer_key_sha256: str
    items: tuple[VerifiedItem, ...]
    contents: dict[str, bytes]  # path -> content, for plain items and, given the key, encrypted ones


def key_fingerprint(public_key: Ed25519PublicKey | X25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: how a manifest names a key without holding it."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _info(path: str) -> bytes:
    return f"{FORMAT}\x00{path}".encode()


def write_referral(
    path: Path | str,
    referral: Referral,
    signing_key: Ed25519PrivateKey,
    evidence: Sequence[EvidenceItem] = (),
    recipient_key: X25519PublicKey | None = None,
    created_at: datetime | None = None,
) -> dict:
    """Write the package to `path` (atomically: a temporary file, synced, renamed into place) and return
    the manifest. Raises ReferralError for invalid names, missing recipient key, non-JSON content."""
    if (evidence or referral.signals) and recipient_key is None:
        raise ReferralError("signals and evidence leave the hotline only encrypted: give the recipient's key")
    items = list(evidence)
    if referral.signals:
        signals_json = json.dumps(referral.signals, sort_keys=True).encode()
        items.append(EvidenceItem(SIGNALS_ITEM, signals_json, "application/json"))
    names = [item.name for item in items]
    for name in names:
        if not _ITEM_NAME.match(name):
            raise ReferralError(f"item name {name!r}: use letters, digits, '.', '_' and '-' only")
    if len(set(names)) != len(names):
        raise ReferralError("item names must be unique (signals.json is reserved when there are signals)")

    stored: list[tuple[str, bytes]] = []
    listed = []
    for item in items:
        item_path = ITEM_DIR + item.name
        data = (
            HPKE_SUITE.encrypt(item.data, recipient_key, info=_info(item_path))
            if recipient_key
            else item.data
        )
        stored.append((item_path, data))
        listed.append(
            {
                "path": item_path,
                "role": "signals" if item.name == SIGNALS_ITEM and referral.signals else "evidence",
                "media_type": item.media_type,
                "size": len(item.data),
                "sha256": _sha256(item.data),
                "stored_sha256": _sha256(data),
                "encrypted": recipient_key is not None,
            }
        )

    manifest = {
        "format": FORMAT,
        "created_at": (created_at or datetime.now(UTC)).isoformat(),
        "signer": {"algorithm": "Ed25519", "key_sha256": key_fingerprint(signing_key.public_key())},
        "recipient": (
            {"algorithm": HPKE_NAME, "key_sha256": key_fingerprint(recipient_key)} if recipient_key else None
        ),
        "case": referral.case,
        "urls": list(referral.urls),
        "hosting_trace": referral.hosting_trace,
        "classifications": referral.classifications,
        "timestamps": referral.timestamps,
        "signals": (
            {
                "path": ITEM_DIR + SIGNALS_ITEM,
                "count": len(referral.signals),
                "signal_types": sorted({str(signal.get("signal_type")) for signal in referral.signals}),
            }
            if referral.signals
            else None
        ),
        "items": listed,
    }
    try:
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise ReferralError(f"referral content is not JSON-ready: {exc}") from None
    signature = signing_key.sign(manifest_bytes)

    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".referral-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw:
            with zipfile.ZipFile(raw, "w") as package:
                package.writestr(MANIFEST, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
                package.writestr(SIGNATURE, signature)
                for item_path, data in stored:
                    package.writestr(item_path, data, compress_type=zipfile.ZIP_STORED)
            raw.flush()
            os.fsync(raw.fileno())  # the package is on disk before it takes its name
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest


def verify(
    path: Path | str, public_key: Ed25519PublicKey, decryption_key: X25519PrivateKey | None = None
) -> VerifiedReferral:
    """Check the signature, then every item against the signed manifest; with `decryption_key`
    also decrypt each encrypted item and check the digest of its content.

    Raises PackageUnreadable, WrongKey, ManifestChanged, EvidenceMissing, DigestMismatch,
    UnlistedFile or DecryptionFailed (all ReferralError)."""
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PackageUnreadable(f"{path}: not a readable referral package ({exc})") from None
    with package:
        entries = {}
        for info in package.infolist():
            if info.filename in entries:
                raise PackageUnreadable(f"{path}: the package holds {info.filename} twice")
            entries[info.filename] = info
        for required in (MANIFEST, SIGNATURE):
            if required not in entries:
                raise PackageUnreadable(f"{path}: {required} is missing")
        if entries[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            raise PackageUnreadable(f"{path}: manifest.json is too large")
        manifest_bytes = package.read(MANIFEST)
        signature = package.read(SIGNATURE)

        _check_signature(manifest_bytes, signature, public_key)
        try:
            manifest = json.loads(manifest_bytes)
            if manifest["format"] != FORMAT:
                raise PackageUnreadable(f"{path}: unknown package format {manifest['format']!r}")
            listed = {item["path"]: item for item in manifest["items"]}
            for item in listed.values():
                _check_item_fields(item)
            if not isinstance(manifest["case"], dict):
                raise TypeError("case must be an object")
        except (ValueError, KeyError, TypeError) as exc:
            raise PackageUnreadable(f"{path}: manifest.json is not a referral manifest ({exc!r})") from None

        for name in entries:
            if name not in listed and name not in (MANIFEST, SIGNATURE):
                raise UnlistedFile(f"{name}: in the package but not in the signed manifest", name)

        items, contents = [], {}
        for item_path, item in listed.items():
            if item_path not in entries:
                raise EvidenceMissing(
                    f"{item_path}: listed in the manifest but missing from the package", item_path
                )
            if _stream_sha256(package, item_path) != item["stored_sha256"]:
                raise DigestMismatch(
                    f"{item_path}: its bytes differ from those the signed manifest describes", item_path
                )
            if not item["encrypted"]:
                contents[item_path] = package.read(item_path)
            elif decryption_key is not None:
                try:
                    plain = HPKE_SUITE.decrypt(package.read(item_path), decryption_key, info=_info(item_path))
                except (InvalidTag, ValueError):
                    raise DecryptionFailed(
                        f"{item_path}: cannot be decrypted with the key given", item_path
                    ) from None
                if _sha256(plain) != item["sha256"]:
                    raise DigestMismatch(
                        f"{item_path}: decrypted content differs from the signed manifest", item_path
                    )
                contents[item_path] = plain
            items.append(
                VerifiedItem(
                    path=item_path,
                    role=item["role"],
                    media_type=item["media_type"],
                    size=item["size"],
                    encrypted=item["encrypted"],
                )
            )
    return VerifiedReferral(
        manifest=manifest,
        signer_key_sha256=key_fingerprint(public_key),
        items=tuple(items),
        contents=contents,
    )


_ITEM_FIELDS = {
    "path": str,
    "role": str,
    "media_type": str,
    "size": int,
    "sha256": str,
    "stored_sha256": str,
    "encrypted": bool,
}


def _check_item_fields(item: dict) -> None:
    for name, kind in _ITEM_FIELDS.items():
        if not isinstance(item[name], kind):
            raise TypeError(f"item field {name} must be {kind.__name__}")


def _check_signature(manifest_bytes: bytes, signature: bytes, public_key: Ed25519PublicKey) -> None:
    try:
        public_key.verify(signature, manifest_bytes)
        return
    except InvalidSignature:
        pass
    given = key_fingerprint(public_key)
    try:
        named = json.loads(manifest_bytes)["signer"]["key_sha256"]
    except (ValueError, KeyError, TypeError):
        named = None
    if named is not None and named != given:
        raise WrongKey(
            f"signature check failed: the package names signing key sha256:{named[:16]}..., "
            f"the public key given is sha256:{given[:16]}..."
        )
    raise ManifestChanged("signature check failed: manifest.json was changed after it was signed")


def _stream_sha256(package: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    try:
        with package.open(name) as member:
            while chunk := member.read(_CHUNK):
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError) as exc:  # a damaged entry fails its CRC check
        raise DigestMismatch(f"{name}: damaged in the package ({exc})", name) from None
    return digest.hexdigest()


def _load_key(path: Path | str, private: bool, kind: type, what: str):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} key file {path}: {exc.strerror or exc}") from None
    try:
        if private:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} is not a PEM {what} key ({exc})") from None
    if not isinstance(key, kind):
        raise KeyFileError(f"{path} holds a {type(key).__name__.removeprefix('_')}, not an {what} key")
    return key


def load_signing_key(path: Path | str) -> Ed25519PrivateKey:
    """The hotline's Ed25519 private key (PEM, unencrypted: protect the file, not the PEM)."""
    return _load_key(path, True, Ed25519PrivateKey, "Ed25519 private")


def load_verify_key(path: Path | str) -> Ed25519PublicKey:
    return _load_key(path, False, Ed25519PublicKey, "Ed25519 public")


def load_decryption_key(path: Path | str) -> X25519PrivateKey:
    return _load_key(path, True, X25519PrivateKey, "X25519 private")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `openmnr referral verify`."""
    parser.add_argument("file", help="the referral package (.zip)")
    parser.add_argument("--public-key", required=True, help="the hotline's Ed25519 public key (PEM)")
    parser.add_argument(
        "--decryption-key",
        help="the recipient's X25519 private key (PEM): also decrypt the items and check their content",
    )


def run(args: argparse.Namespace) -> int:
    """Verify and print the outcome. Exit status: 0 verified, 1 verification failed, 2 could not
    check (package or key file unreadable)."""
    try:
        public_key = load_verify_key(args.public_key)
        decryption_key = load_decryption_key(args.decryption_key) if args.decryption_key else None
        result = verify(args.file, public_key, decryption_key)
    except (KeyFileError, PackageUnreadable) as exc:
        print(f"cannot check: {exc}", file=sys.stderr)
        return 2
    except ReferralError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    encrypted = sum(item.encrypted for item in result.items)
    checked = "content checked" if decryption_key else "stored bytes checked"
    print(f"OK: {args.file}")
    print(f"  signed by key sha256:{result.signer_key_sha256}")
    print(f"  case {result.manifest['case'].get('reference', '?')}, created {result.manifest['created_at']}")
    print(f"  {len(result.items)} items ({encrypted} encrypted), all intact ({checked})")
    return 0
