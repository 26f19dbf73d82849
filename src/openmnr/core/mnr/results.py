"""Signed results of a self-assessment cycle: what one country sends a regional body or a neighbour.

A results package is a zip file holding::

    results.json   the country, period, framework (version and digest), the content hash its two
                   coordinators signed, and per capability the levels, confidence, criteria met and
                   the live indicators frozen at sign-off; the planned steps; and, only when the
                   sender chose to include them, the evidence and a list of its documents
    results.sig    the country's Ed25519 signature of results.json, 64 raw bytes
    documents/NAME the evidence documents listed in results.json (only when chosen)

This is the approach of the law-enforcement referral packages (``openmnr.core.referral``): one signed
manifest that binds every other file by its SHA-256, a signer named by the fingerprint of its key,
checkable without this code::

    unzip results.zip results.json results.sig
    openssl pkeyutl -verify -pubin -inkey country.pub.pem -rawin -in results.json -sigfile results.sig

The receiving side trusts no field before the signature checks out under the key *it* configured for
the country the package names (``key_for``); a package naming a country it has no key for is refused.
Errors raised on purpose are subclasses of :class:`ResultsError`.
"""

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from openmnr.core.referral import key_fingerprint

FORMAT = "openmnr-assessment-results/1"
MANIFEST = "results.json"
SIGNATURE = "results.sig"
DOCUMENT_DIR = "documents/"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
_DOCUMENT_NAME = re.compile(r"^[0-9a-f]{64}\.[a-z]{2,4}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ResultsError(Exception):
    """Base of every error raised on purpose by this module."""


class PackageUnreadable(ResultsError):
    """Not a results package: not a zip, a file missing or duplicated, too large, or bad JSON."""


class UnknownCountry(ResultsError):
    """No key is configured for the country the package names, so nothing in it can be trusted."""


class SignatureInvalid(ResultsError):
    """The signature does not check out under the country's key."""


class WrongKey(SignatureInvalid):
    """The package was signed with another key than the one configured for its country."""


class ContentChanged(SignatureInvalid):
    """The key is the right one but results.json changed after it was signed."""


class NotResults(ResultsError):
    """The signed document is not results in this format (a field missing or of the wrong type)."""


class DocumentMismatch(ResultsError):
    """A document is missing, differs from its digest in results.json, or is not listed there."""


@dataclass(frozen=True)
class ResultDocument:
    """An evidence document to include: its bytes and what results.json says about it."""

    data: bytes
    extension: str  # "pdf", "png", ...
    capability: int
    title: str
    content_type: str


@dataclass(frozen=True)
class VerifiedResults:
    results: dict
    key_sha256: str
    package_sha256: str
    documents: dict[str, bytes]  # sha256 -> content


def write_results(
    results: dict, signing_key: Ed25519PrivateKey, documents: Sequence[ResultDocument] = ()
) -> bytes:
    """The package's bytes. ``results`` gets its ``format``, ``signer`` and ``documents`` fields
    here; everything else is the caller's, and must be JSON-ready."""
    listed, stored = [], {}
    for doc in documents:
        digest = hashlib.sha256(doc.data).hexdigest()
        name = f"{digest}.{doc.extension}"
        if not _DOCUMENT_NAME.match(name):
            raise ResultsError(f"document extension {doc.extension!r}: use 2-4 lower-case letters")
        if name not in stored:
            stored[name] = doc.data
        listed.append(
            {
                "path": DOCUMENT_DIR + name,
                "sha256": digest,
                "size": len(doc.data),
                "content_type": doc.content_type,
                "capability": doc.capability,
                "title": doc.title,
            }
        )
    manifest = dict(results)
    manifest.update(
        format=FORMAT,
        signer={"algorithm": "Ed25519", "key_sha256": key_fingerprint(signing_key.public_key())},
        documents=listed,
    )
    try:
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
    except (TypeError, ValueError) as exc:
        raise ResultsError(f"results are not JSON-ready: {exc}") from None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(MANIFEST, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr(SIGNATURE, signing_key.sign(manifest_bytes))
        for name, data in stored.items():
            package.writestr(DOCUMENT_DIR + name, data, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def read_results(
    package: bytes, key_for: Callable[[str], Ed25519PublicKey | None], *, max_document_bytes: int
) -> VerifiedResults:
    """Verify a package and return what it says.

    ``key_for(country)`` returns the key configured for a country, or None. The country is read from
    the unverified manifest only to choose the key; the signature then decides whether anything in
    it, that name included, is believed.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(package))
    except zipfile.BadZipFile as exc:
        raise PackageUnreadable(f"not a results package ({exc})") from None
    with archive:
        entries = {}
        for info in archive.infolist():
            if info.filename in entries:
                raise PackageUnreadable(f"the package holds {info.filename} twice")
            entries[info.filename] = info
        for required in (MANIFEST, SIGNATURE):
            if required not in entries:
                raise PackageUnreadable(f"{required} is missing")
        if entries[MANIFEST].file_size > MAX_MANIFEST_BYTES:
            raise PackageUnreadable("results.json is too large")
        if entries[SIGNATURE].file_size != 64:
            raise PackageUnreadable("results.sig is not an Ed25519 signature")
        manifest_bytes, signature = _read(archive, MANIFEST), _read(archive, SIGNATURE)
        try:
            unverified = json.loads(manifest_bytes)
            country = unverified["country"]
            if not isinstance(country, str):
                raise TypeError("country")
        except (ValueError, KeyError, TypeError):
            raise PackageUnreadable("results.json does not name a country") from None
        key = key_for(country)
        if key is None:
            raise UnknownCountry(f"no key is configured for {country!r}: an administrator must add it first")
        _check_signature(manifest_bytes, signature, key, unverified)
        _check_shape(unverified)
        documents = {}
        listed = {doc["path"]: doc for doc in unverified["documents"]}
        for name in entries:
            if name not in listed and name not in (MANIFEST, SIGNATURE):
                raise DocumentMismatch(f"{name} is in the package but not in the signed results")
        for path, doc in listed.items():
            if path not in entries:
                raise DocumentMismatch(f"{path} is listed in the signed results but missing")
            if entries[path].file_size > max_document_bytes:
                raise DocumentMismatch(f"{path} is larger than this installation accepts")
            data = _read(archive, path)
            if hashlib.sha256(data).hexdigest() != doc["sha256"]:
                raise DocumentMismatch(f"{path} differs from the signed results")
            documents[doc["sha256"]] = data
    return VerifiedResults(
        results=unverified,
        key_sha256=key_fingerprint(key),
        package_sha256=hashlib.sha256(package).hexdigest(),
        documents=documents,
    )


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError) as exc:  # a damaged entry fails its CRC check
        raise PackageUnreadable(f"{name} is damaged ({exc})") from None


def _check_signature(manifest_bytes: bytes, signature: bytes, key: Ed25519PublicKey, unverified) -> None:
    try:
        key.verify(signature, manifest_bytes)
        return
    except InvalidSignature:
        pass
    named = (
        unverified.get("signer", {}).get("key_sha256") if isinstance(unverified.get("signer"), dict) else None
    )
    if named is not None and named != key_fingerprint(key):
        raise WrongKey(
            f"signed with key sha256:{str(named)[:16]}..., not the key configured for this country "
            f"(sha256:{key_fingerprint(key)[:16]}...)"
        )
    raise ContentChanged("results.json was changed after it was signed")


# The fields a comparison reads, and their types; more fields may be present.
_TOP = {"country": str, "period_start": str, "period_end": str, "framework": dict, "signed_off": dict,
        "capabilities": list, "plan": list, "documents": list}  # fmt: skip
_CAPABILITY = {"number": int, "name": str, "domain": str, "assessed": bool, "current_level": int,
               "target_level": int, "criteria_met": list, "live_indicators": list}  # fmt: skip


def _check_shape(data) -> None:
    try:
        if data.get("format") != FORMAT:
            raise NotResults(f"format {data.get('format')!r} is not {FORMAT}")
        _types(data, _TOP, "results")
        date.fromisoformat(data["period_start"])
        date.fromisoformat(data["period_end"])
        _types(data["framework"], {"version": str, "digest": str}, "framework")
        _types(data["signed_off"], {"at": str, "content_sha256": str}, "signed_off")
        if not _HEX64.match(data["signed_off"]["content_sha256"]):
            raise NotResults("signed_off.content_sha256 is not a SHA-256")
        numbers = set()
        for i, cap in enumerate(data["capabilities"]):
            _types(cap, _CAPABILITY, f"capabilities[{i}]")
            for name in ("current_level", "target_level"):
                if not 0 <= cap[name] <= 4:
                    raise NotResults(f"capabilities[{i}].{name} is not 0-4")
            if cap["number"] in numbers:
                raise NotResults(f"capability {cap['number']} appears twice")
            numbers.add(cap["number"])
        for i, step in enumerate(data["plan"]):
            _types(step, {"capability": int, "to_level": int, "due": str}, f"plan[{i}]")
        for i, doc in enumerate(data["documents"]):
            _types(doc, {"path": str, "sha256": str, "size": int, "capability": int}, f"documents[{i}]")
            path = doc["path"]
            if not path.startswith(DOCUMENT_DIR) or not _DOCUMENT_NAME.match(path[len(DOCUMENT_DIR) :]):
                raise NotResults(f"documents[{i}].path is not a document name")
    except (AttributeError, ValueError) as exc:
        raise NotResults(f"the signed document is not results: {exc}") from None


def _types(obj, fields: dict, where: str) -> None:
    if not isinstance(obj, dict):
        raise NotResults(f"{where} is not an object")
    for name, kind in fields.items():
        value = obj.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise NotResults(f"{where}.{name} is missing or not {kind.__name__}")
