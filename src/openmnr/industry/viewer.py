"""The protective viewer for industry report files.

Nothing is shown unblurred by default: a file's page shows the blurred greyscale thumbnail made when
it arrived (the hotline's, with the blur baked into the pixels). Revealing one file needs the
permission and a fresh second factor (the view's ``step_up_required``), is audited, and holds for
HOTLINE_REVEAL_SECONDS at most; revealing another ends the first, so one file at a time is ever
visible, and the bytes are served only to the session that revealed that file. Known material (a
file that matched confirmed material) is never revealed: nobody needs to see it again.
"""

import time

from django.conf import settings
from django.db import transaction

from openmnr.audit import services as audit

from . import evidence
from .models import File

SESSION_KEY = "industry_revealed"


class RevealError(Exception):
    pass


def reveal(file: File, request) -> None:
    if not request.user.has_perm("industry.reveal_media"):
        raise RevealError("your role may not reveal files")
    if file.matched:
        raise RevealError("this file is known material and is never shown")
    if not file.evidence_id:
        raise RevealError("the bytes of this file are not kept (this installation keeps signals only)")
    with transaction.atomic():
        audit.record("industry.file.reveal", request=request, obj=file.report, detail={"file": file.file_id})
    request.session[SESSION_KEY] = [file.pk, time.time()]


def hide(request) -> None:
    request.session.pop(SESSION_KEY, None)


def is_revealed(file: File, request) -> bool:
    shown = request.session.get(SESSION_KEY)
    return bool(shown) and shown[0] == file.pk and time.time() - shown[1] <= settings.HOTLINE_REVEAL_SECONDS


def revealed_bytes(file: File, request) -> bytes:
    if not is_revealed(file, request) or file.matched:
        raise RevealError("reveal the file first")
    store = evidence.reader()
    if store is None:
        raise RevealError("no evidence key is configured")
    return store.get(file.evidence_id, file.sha256)


def thumbnail_bytes(file: File) -> bytes | None:
    store = evidence.reader()
    if store is None or not file.thumbnail_id:
        return None
    return store.get(file.thumbnail_id, file.thumbnail_sha256)
