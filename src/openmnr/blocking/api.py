"""/api/v1/urllist/...: the URL list for licensees' keys (permission blocking.download_list), and
/api/v1/keywords for moderation partners (blocking.download_keywords).

    GET  /urllist/snapshot                 the latest version, signed
    GET  /urllist/diff?from_version=N      from N to the latest, signed
    POST /urllist/full-hashes {prefix}     the full hashes of a bucket
    POST /urllist/confirm {prefix, blinded} the blinded OPRF evaluation (the private way)
    GET  /urllist/public-key               the PEM key documents are signed with
    GET  /keywords                         the active keywords, signed

Refusals are 400 with the reason (never an entry), 403 without the permission.
"""

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from pydantic import ConfigDict

from openmnr.accounts.apiauth import require

from . import keys, services
from .errors import BlockingError

router = Router(tags=["blocking"])


class PrefixIn(Schema):
    model_config = ConfigDict(extra="forbid")
    prefix: str = Field(..., max_length=64, description="The hash prefix, hexadecimal (8 digits by default).")


class BlindedIn(PrefixIn):
    blinded: str = Field(..., max_length=64, description="The blinded ristretto255 element, base64.")


def _answer(call):
    try:
        return call()
    except BlockingError as error:
        raise HttpError(400, str(error)) from None


@router.get("/urllist/snapshot", summary="The URL list's latest version as a signed snapshot")
def snapshot(request):
    require(request, "blocking.download_list")
    return _answer(lambda: services.snapshot(request=request))


@router.get("/urllist/diff", summary="A signed diff from a version the licensee holds to the latest")
def diff(request, from_version: int):
    require(request, "blocking.download_list")
    return _answer(lambda: services.diff(from_version, request=request))


@router.post("/urllist/full-hashes", summary="The full hashes listed under a prefix")
def full_hashes(request, body: PrefixIn):
    require(request, "blocking.download_list")
    return {"full_hashes": _answer(lambda: services.full_hashes(body.prefix, request=request))}


@router.post("/urllist/confirm", summary="Confirm a prefix hit without revealing the URL (blinded OPRF)")
def confirm(request, body: BlindedIn):
    require(request, "blocking.download_list")
    return _answer(lambda: services.evaluate(body.prefix, body.blinded, request=request))


@router.get("/urllist/public-key", summary="The Ed25519 public key the list and keywords are signed with")
def public_key(request):
    require(request, "blocking.download_list")
    return HttpResponse(keys.public_key_pem(), content_type="application/x-pem-file")


@router.get("/keywords", summary="The active keywords, signed")
def keywords(request):
    require(request, "blocking.download_keywords")
    return _answer(lambda: services.keywords.export(request=request))
