"""The hotline's use of the encrypted evidence store (openmnr.core.evidence).

Media bytes, and the blurred thumbnails made from them, are written only when the operator keeps
evidence (OPENMNR_KEEP_EVIDENCE=1 with OPENMNR_EVIDENCE_KEY); otherwise triage keeps signals only.
Reading needs only the key, so items kept earlier stay viewable after keeping is turned off.
"""

from django.conf import settings

from openmnr.core.evidence import EvidenceStore, load_key


def writer() -> EvidenceStore | None:
    """The store to keep new media in, or None when this installation keeps signals only."""
    return reader() if settings.KEEP_EVIDENCE else None


def reader() -> EvidenceStore | None:
    """The store to read kept media from, or None when no key is configured."""
    if not settings.EVIDENCE_KEY:
        return None
    return EvidenceStore(settings.EVIDENCE_DIR, load_key(settings.EVIDENCE_KEY))
