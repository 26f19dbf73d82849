"""A partner's list uploaded on the staff page: a file partner's (it has no endpoint), or a partner
OpenMNR's signed export when its endpoint cannot be reached.

    import_upload(partner, upload, by=, request=)   a plain list (one URL or SHA-256 per line) for
                                                    a file partner, or a partner OpenMNR's signed
                                                    export (JSON) for an OpenMNR partner

The upload is refused whole or imported whole. Before anything is read into the database: the
size (``MAX_UPLOAD_BYTES``, about 1M lines of URLs, the most a partner list may hold), UTF-8, and
the format against the partner's kind. Then the existing imports decide, in one transaction each:
a plain file is read line by line and any bad line refuses the file (``BadLines``, with each bad
line's number and reason, up to 20 shown); a signed export is verified with the partner's
registered key (``import_document``: an unsigned, tampered or older export is refused). Who may
upload is who may change the list (administrators, ``manage_partner_lists``, with a fresh second
factor on the page): an upload replaces the partner's entries, as an edit of its source would
decide them. Every upload is audited (``blocking.partner_import``, ``from: upload``, with counts),
and so is every refusal (its class, never the file's content).
"""

import json

from ..errors import InvalidInput, audited_refusal
from ..models import PartnerList
from . import partners

#: The largest file accepted: 1M entries of about 60 bytes.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


def import_upload(partner: PartnerList, upload, *, by, request=None) -> dict:
    """Import an uploaded file (a Django ``UploadedFile`` or any object with ``read`` and ``size``)."""
    with audited_refusal("blocking.partner_import", by=by, obj=partner, request=request):
        partners._require(by)
        if not partner.active:
            raise InvalidInput("this partner list was removed")
        if getattr(upload, "size", 0) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInput(f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(f"the file is not UTF-8 text (byte {error.start})") from None
        signed = text.lstrip().startswith("{")
        if signed and partner.kind != PartnerList.Kind.OPENMNR:
            raise InvalidInput(
                "this list takes a plain file (one URL or SHA-256 per line), not a signed export"
            )
        if not signed and partner.kind != PartnerList.Kind.FILE:
            raise InvalidInput("a partner OpenMNR's list is uploaded as its signed export (JSON)")
        if signed:
            try:
                document = json.loads(text)
            except ValueError:
                raise InvalidInput("the file is not a signed export: it is not valid JSON") from None
            if not isinstance(document, dict):
                raise InvalidInput("the file is not a signed export")
    if signed:
        return partners.import_document(partner, document, by=by, request=request)
    return partners.import_file(partner, text, by=by, request=request, how="upload")
