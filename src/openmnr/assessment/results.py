"""Signed results: what a country shares of a signed-off cycle, and what it accepts from others.

* **Export**: only a signed-off cycle (what two coordinators stand behind). The package carries the
  levels, confidence, criteria met, the live indicators frozen at sign-off and the planned steps, never
  staff names or stakeholders; evidence (links, notes and documents) only when the exporting
  coordinator chooses to include it. Signed with the country's own key (``keys.py``); the format is
  ``openmnr.core.mnr.results``.
* **Peer keys**: an administrator sets the public key of each country whose results are accepted.
  The person who decides whom to trust is not the one who imports, and a key change is audited.
* **Import**: a package is kept only when it verifies under the key set for the country it names;
  documents in it are type-checked again like any upload. The same signed cycle is kept once.

Every one of these is audited in the transaction that does it.
"""

from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from openmnr.audit import services as audit
from openmnr.core.mnr import results as signed

from . import documents, keys
from .access import COMPARE, EXPORT, PEER_KEYS, can_view
from .analysis import Assessment, assess
from .errors import CycleLocked, InvalidInput, NotAllowed
from .exports import live_status
from .models import Cycle, ImportedResults, PeerCountry

EXTENSIONS = {content_type: ext.lstrip(".") for content_type, (_, ext) in documents.TYPES.items()}


def results_data(assessment: Assessment, *, include_evidence: bool = False) -> dict:
    """The results document of a signed-off cycle (the fields ``write_results`` adds aside)."""
    cycle, framework = assessment.cycle, assessment.framework
    capabilities = []
    for row in assessment.rows:
        item = {
            "number": row.number,
            "name": row.name,
            "domain": row.domain.id,
            "assessed": row.assessed,
            "current_level": row.current,
            "target_level": row.target,
            "confidence": row.confidence.lower() or None,
            "criteria_met": list(row.criteria_met),
            "evidence_items": len(row.evidence),
            "live_indicators": [
                {
                    "key": figure.indicator.key,
                    "text": figure.indicator.text,
                    "unit": figure.indicator.unit,
                    "status": live_status(figure),
                    "value": figure.value.value if figure.value else None,
                    "note": figure.value.note if figure.value else "",
                    "period_start": figure.value.period[0].isoformat() if figure.value else None,
                    "period_end": figure.value.period[1].isoformat() if figure.value else None,
                }
                for figure in row.live
            ],
        }
        if include_evidence:
            item["evidence"] = [
                {"kind": e.kind, "title": e.title, "criterion": e.criterion or None}
                | ({"url": e.url} if e.kind == "link" else {})
                | ({"note": e.note} if e.kind == "note" else {})
                | ({"sha256": e.sha256, "content_type": e.content_type} if e.kind == "document" else {})
                for e in row.evidence
            ]
        capabilities.append(item)
    return {
        "country": cycle.country,
        "period_start": cycle.period_start.isoformat(),
        "period_end": cycle.period_end.isoformat(),
        "framework": {"version": framework.version, "digest": cycle.framework_digest or framework.digest},
        "levels": [{"level": lv.number, "name": lv.name} for lv in framework.levels],
        "signed_off": {
            "at": cycle.signed_off_at.isoformat() if cycle.signed_off_at else "",
            "content_sha256": cycle.content_sha256,
        },
        "capabilities": capabilities,
        "plan": [
            {"capability": a.capability, "to_level": a.to_level, "wave": a.wave, "due": a.due.isoformat()}
            for a in assessment.plan.actions
        ],
        "evidence_included": include_evidence,
    }


def export_results(user, cycle: Cycle, *, include_evidence: bool = False, request=None) -> bytes:
    if not user.has_perm(EXPORT) or not can_view(user, cycle):
        raise NotAllowed("Your role may not export this cycle.")
    if not cycle.signed_off:
        raise CycleLocked("Only a signed-off cycle's results can be shared: sign and countersign it first.")
    try:
        signing_key = keys.signing_key()
    except keys.KeyFileError as exc:
        raise InvalidInput(str(exc)) from None
    assessment = assess(cycle, with_evidence=True)  # counted always, listed only when chosen
    docs = []
    if include_evidence:
        for row in assessment.rows:
            for item in row.evidence:
                if item.kind == "document":
                    docs.append(
                        signed.ResultDocument(
                            data=documents.path_of(item.stored_name).read_bytes(),
                            extension=EXTENSIONS[item.content_type],
                            capability=row.number,
                            title=item.title,
                            content_type=item.content_type,
                        )
                    )
    with transaction.atomic():
        audit.record(
            "assessment.export_results",
            request=request,
            actor=user,
            obj=cycle,
            detail={"evidence": include_evidence, "documents": len(docs)},
        )
        return signed.write_results(
            results_data(assessment, include_evidence=include_evidence), signing_key, docs
        )


def set_peer_key(user, country: str, pem: str, *, request=None) -> PeerCountry:
    """Accept ``country``'s results signed with the key in ``pem`` (replacing its previous key)."""
    if not user.has_perm(PEER_KEYS):
        raise NotAllowed("Only an administrator sets the keys of peer countries.")
    country = (country or "").strip()
    if not country:
        raise InvalidInput("Give the country.")
    try:
        public = keys.parse_public_key(pem)
    except keys.KeyFileError as exc:
        raise InvalidInput(f"The key is not usable: {exc}.") from None
    fingerprint = keys.key_fingerprint(public)
    with transaction.atomic():
        peer = PeerCountry.objects.select_for_update().filter(country__iexact=country).first()
        before = peer.key_sha256 if peer else None
        if peer is None:
            peer = PeerCountry(country=country, added_by=user)
        peer.public_key_pem, peer.key_sha256, peer.added_by = pem.strip(), fingerprint, user
        peer.save()
        audit.record(
            "assessment.peer_key_set",
            request=request,
            actor=user,
            obj=peer,
            detail={"country": peer.country, "key_sha256": fingerprint, "replaced": before},
        )
    return peer


def remove_peer_key(user, peer: PeerCountry, *, request=None) -> None:
    if not user.has_perm(PEER_KEYS):
        raise NotAllowed("Only an administrator removes the keys of peer countries.")
    with transaction.atomic():
        audit.record(
            "assessment.peer_key_removed",
            request=request,
            actor=user,
            obj=peer,
            detail={"country": peer.country, "key_sha256": peer.key_sha256},
        )
        peer.delete()


def _key_for(country: str):
    peer = PeerCountry.objects.filter(country__iexact=country).first()
    return keys.parse_public_key(peer.public_key_pem) if peer else None


def import_results(user, package: bytes, *, request=None) -> ImportedResults:
    """Verify and keep another country's signed results. Raises InvalidInput saying what failed;
    nothing is kept then."""
    if not user.has_perm(COMPARE):
        raise NotAllowed("Your role may not import other countries' results.")
    if len(package) > settings.ASSESSMENT_RESULTS_MAX_BYTES:
        raise InvalidInput("The file is larger than this installation accepts for results.")
    try:
        verified = signed.read_results(
            package, _key_for, max_document_bytes=settings.ASSESSMENT_EVIDENCE_MAX_BYTES
        )
    except signed.ResultsError as exc:
        raise InvalidInput(f"The results were refused: {exc}.") from None
    data = verified.results
    if ImportedResults.objects.filter(
        country__iexact=data["country"], content_sha256=data["signed_off"]["content_sha256"]
    ).exists():
        raise InvalidInput(f"These results of {data['country']} were imported already.")
    stored = []
    try:
        for doc in data["documents"]:
            kept = documents.store(ContentFile(verified.documents[doc["sha256"]], name=doc["path"]))
            stored.append(
                {
                    "sha256": doc["sha256"],
                    "stored_name": kept.stored_name,
                    "content_type": kept.content_type,
                    "capability": doc["capability"],
                    "title": str(doc.get("title", ""))[:200],
                }
            )
        with transaction.atomic():
            row = ImportedResults.objects.create(
                country=data["country"],
                period_start=date.fromisoformat(data["period_start"]),
                period_end=date.fromisoformat(data["period_end"]),
                framework_version=data["framework"]["version"],
                content_sha256=data["signed_off"]["content_sha256"],
                key_sha256=verified.key_sha256,
                package_sha256=verified.package_sha256,
                payload=data,
                documents=stored,
                imported_by=user,
            )
            audit.record(
                "assessment.import_results",
                request=request,
                actor=user,
                obj=row,
                detail={"country": row.country, "key_sha256": row.key_sha256, "documents": len(stored)},
            )
    except IntegrityError:
        _forget(stored)
        raise InvalidInput(f"These results of {data['country']} were imported already.") from None
    except BaseException:
        _forget(stored)
        raise
    return row


def _forget(stored) -> None:
    for doc in stored:
        documents.delete(doc["stored_name"])


def open_imported_document(user, row: ImportedResults, sha256: str, *, request=None) -> tuple[bytes, dict]:
    """A document another country included in its results, and what its results say of it; the read
    is audited. Raises LookupError when the results hold no such document or it is missing."""
    if not user.has_perm(COMPARE):
        raise NotAllowed("Your role may not read other countries' results.")
    doc = next((d for d in row.documents if d["sha256"] == sha256), None)
    if doc is None:
        raise LookupError("no such document in these results")
    try:
        data = documents.path_of(doc["stored_name"]).read_bytes()
    except (OSError, InvalidInput):
        raise LookupError("the document is missing from storage") from None
    with transaction.atomic():
        audit.record(
            "assessment.imported_document_download",
            request=request,
            actor=user,
            obj=row,
            detail={"country": row.country},
        )
    return data, doc
