"""/api/v1/urllist/...: the URL list for licensees' keys (permission blocking.download_list), and
/api/v1/keywords for moderation partners (blocking.download_keywords).

    GET  /urllist/snapshot                 the latest version, signed
    GET  /urllist/diff?from_version=N      from N to the latest, signed
    POST /urllist/full-hashes {prefix}     the full hashes of a bucket
    POST /urllist/confirm {prefix, blinded} the blinded OPRF evaluation (the private way)
    GET  /urllist/public-key               the PEM key documents are signed with
    GET  /urllist/export                   our cases' expressions, signed, for partner hotlines
    GET  /keywords                         the active keywords, signed

Refusals are 400 with the reason (never an entry), 403 without the permission, 429 with
Retry-After for a snapshot, diff or export asked for before the list's minimum wait has passed.
"""

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from openmnr.accounts.apiauth import require
from openmnr.common.apierrors import Refused, errors
from openmnr.core.referral import KeyFileError

from . import keys, services
from .errors import BlockingError, NotPublished, TooSoon

router = Router(tags=["blocking"])


class PrefixIn(Schema):
    model_config = ConfigDict(extra="forbid")
    prefix: str = Field(
        ...,
        pattern=rf"^[0-9a-fA-F]{{{2 * settings.BLOCKING_PREFIX_BYTES}}}$",
        description="The hash prefix, hexadecimal (OPENMNR_BLOCKING_PREFIX_BYTES bytes: 8 digits by default).",
    )


class BlindedIn(PrefixIn):
    blinded: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9+/]{43}=$",
        description="The blinded ristretto255 element (32 bytes), base64.",
    )


def _answer(call):
    try:
        return call()
    except NotPublished as error:
        raise Refused(404, "not_found", str(error)) from None
    except TooSoon as error:
        raise Refused(429, "too_soon", str(error), headers={"Retry-After": str(error.retry_after)}) from None
    except BlockingError as error:
        raise Refused(400, "invalid_input", str(error)) from None
    except KeyFileError as error:  # the operator has not set OPENMNR_BLOCKING_SIGNING_KEY
        raise Refused(503, "not_configured", str(error)) from None


@router.get(
    "/urllist/snapshot",
    response={200: dict, **errors(400, 404, 429, 503)},
    summary="The URL list's latest version as a signed snapshot",
)
def snapshot(request):
    require(request, "blocking.download_list")
    return _answer(lambda: services.snapshot(request=request))


@router.get(
    "/urllist/diff",
    response={200: dict, **errors(400, 404, 429, 503)},
    summary="A signed diff from a version the licensee holds to the latest",
)
def diff(request, from_version: int):
    require(request, "blocking.download_list")
    return _answer(lambda: services.diff(from_version, request=request))


@router.post(
    "/urllist/full-hashes",
    response={200: dict, **errors(400, 404, 503)},
    summary="The full hashes listed under a prefix",
)
def full_hashes(request, body: PrefixIn):
    require(request, "blocking.download_list")
    return {"full_hashes": _answer(lambda: services.full_hashes(body.prefix, request=request))}


@router.post(
    "/urllist/confirm",
    response={200: dict, **errors(400, 404, 503)},
    summary="Confirm a prefix hit without revealing the URL (blinded OPRF)",
)
def confirm(request, body: BlindedIn):
    require(request, "blocking.download_list")
    return _answer(lambda: services.evaluate(body.prefix, body.blinded, request=request))


@router.get("/urllist/public-key", summary="The Ed25519 public key the list and keywords are signed with")
def public_key(request):
    require(request, "blocking.download_list")
    return HttpResponse(_answer(keys.public_key_pem), content_type="application/x-pem-file")


@router.get(
    "/urllist/export",
    response={200: dict, **errors(400, 404, 429, 503)},
    summary="Our cases' entries as a signed export for a partner OpenMNR (partner hotlines)",
)
def export(request):
    require(request, "blocking.download_partner_export")
    return _answer(lambda: services.export(request=request))


@router.get("/keywords", response={200: dict, **errors(400, 503)}, summary="The active keywords, signed")
def keywords(request):
    require(request, "blocking.download_keywords")
    return _answer(lambda: services.keywords.export(request=request))
