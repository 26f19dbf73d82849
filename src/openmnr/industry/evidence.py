"""Kept bytes of industry report files: the same encrypted store as the hotline's (openmnr.core.evidence),
written only when the operator keeps evidence (OPENMNR_KEEP_EVIDENCE=1 with OPENMNR_EVIDENCE_KEY)."""

from django.conf import settings

from openmnr.core.evidence import EvidenceNotFound, EvidenceStore, load_key


def writer() -> EvidenceStore | None:
    return reader() if settings.KEEP_EVIDENCE else None


def reader() -> EvidenceStore | None:
    if not settings.EVIDENCE_KEY:
        return None
    return EvidenceStore(settings.EVIDENCE_DIR, load_key(settings.EVIDENCE_KEY))


def forget(evidence_ids) -> None:
    """Delete kept items for good (a retracted or expired report); missing ones are ignored."""
    store = reader()
    if store is None:
        return
    for evidence_id in evidence_ids:
        if evidence_id:
            try:
                store.delete(evidence_id)
            except EvidenceNotFound:
                pass
