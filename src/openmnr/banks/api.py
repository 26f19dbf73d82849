"""The match and hash API: POST /api/v1/match and POST /api/v1/hash.

``/match`` takes either uploads of images or videos (multipart/form-data, one or more ``file``
parts) or signals as JSON: one item ``{"pdq": "…", "md5": "…", "sha256": "…", "vpdq": "…"}`` (any
of them: one key per signal type a bank holds, built from the signal registry) or a batch
``{"items": [ … ]}``. It answers ``{"results": [ … ]}``, one result per item, in order.

What a result reveals depends on the caller's role and permissions, never on how it authenticated
(``accounts.apiauth.allows``). A caller that may see the banks (``banks.view_banks``: analysts and
senior analysts, whose task is judging a near match) also gets each matching entry with its bank,
distance and classification. Everyone else (an industry member's or partner hotline's key) learns
only ``match`` and the ``action`` class (the purpose of the most serious bank matched, for example
``confirmed_csam``): never a bank, an entry, a distance or a stored value, since those would let a
caller map the banks. Only the enabled banks the caller may match against are consulted, and a
caller may try only so many near-variants of one stored hash an hour (429, ``too_many_variants``;
see ``variants.py``).

``/hash`` returns the PDQ (with its quality), MD5 and SHA-256 of each uploaded image, and the vPDQ
(one ``frame,quality,pdq,timestamp`` line per frame), MD5 and SHA-256 of each video; nothing is
stored. Uploads follow ``openmnr.core.media``'s limits and are decoded in a child process; a bad
upload gets a typed JSON error (400, 413 or 415), never a 500. Every call is audited with counts
and outcome only, never the image or a hash value. Per-key rate limits apply (429).
"""

import json
from dataclasses import asdict

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict, TypeAdapter, ValidationError, create_model, model_validator

from openmnr.accounts.apiauth import allows, require
from openmnr.audit import services as audit
from openmnr.common.apierrors import ApiError, Refused, errors, invalid_input
from openmnr.core import media, signals

from . import services
from .models import signal_types
from .uploads import InMemoryUploads

router = Router(tags=["banks"])


class _Strict(Schema):
    # Python's regular expressions, as the clients that generate from the schema use: one meaning
    # of every pattern on both sides.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")


# The text each signal type accepts, as the schema states it and the server checks it (the same
# pattern on both sides, so a request the document allows is never refused for its form): hex digits
# with surrounding blanks (the type's validation trims them and ignores case), and for vPDQ one
# ``frame,quality,pdq,timestamp`` line per frame.
_BLANKS = "[ \\t\\r\\n]*"
_VPDQ_LINE = "[0-9]{1,9},(?:100|[1-9]?[0-9]),[0-9a-fA-F]{64},[0-9]{1,9}(?:\\.[0-9]{1,6})?"


def _pattern(cls) -> str | None:
    if cls.digits is not None:
        return f"^{_BLANKS}[0-9a-fA-F]{{{cls.digits}}}{_BLANKS}$"
    if cls.name == "vpdq":
        return f"^\\n*(?:{_VPDQ_LINE}(?:\\n+|$))+$"
    return None


def signals_schema() -> type[Schema]:
    """One item's signals: an optional field per signal type a bank holds, described by the type;
    at least one of them must be given (not null), which the JSON schema states with ``anyOf``."""
    fields = {
        name: (
            str | None,
            Field(None, description=cls.description, pattern=_pattern(cls)),
        )
        for name, cls in signal_types().items()
    }
    one_given = [{"required": [name], "properties": {name: {"type": "string"}}} for name in fields]

    def at_least_one(self):
        if all(getattr(self, name) is None for name in fields):
            raise ValueError("give at least one signal (" + ", ".join(fields) + ")")
        return self

    base = type(
        "_SignalsBase",
        (_Strict,),
        {
            "model_config": ConfigDict(
                extra="forbid", regex_engine="python-re", json_schema_extra={"anyOf": one_given}
            )
        },
    )
    return create_model(
        "Signals",
        __base__=base,
        __doc__="One item's signals; give at least one.",
        __validators__={"at_least_one": model_validator(mode="after")(at_least_one)},
        **fields,
    )


def hashes_schema() -> type[Schema]:
    """What hashing one upload returns: a field per signal type a bank holds (null when it does not
    apply to the upload), and for a type that grades its hashes ``<name>_quality`` and
    ``<name>_low_quality``."""
    fields = {}
    for name, cls in signal_types().items():
        fields[name] = (str | None, Field(None, description=cls.description))
        if cls.quality_threshold is not None:
            fields[f"{name}_quality"] = (int | None, Field(None, description=f"{cls.label} quality, 0-100."))
            fields[f"{name}_low_quality"] = (
                bool | None,
                Field(
                    None,
                    description=f"True when the {cls.label} hash is of quality below "
                    f"{cls.quality_threshold} (a picture too flat to be trusted).",
                ),
            )
    doc = "An image has pdq, pdq_quality and pdq_low_quality; a video has vpdq instead."
    return create_model("Hashes", __base__=Schema, __doc__=doc, **fields)


Signals = signals_schema()
Hashes = hashes_schema()


class SignalsBatch(Schema):
    model_config = ConfigDict(extra="forbid")

    items: list[Signals] = Field(
        ...,
        min_length=1,
        max_length=settings.BANKS_MATCH_BATCH_MAX,
        description="At most OPENMNR_BANKS_MATCH_BATCH_MAX items (100 by default).",
    )


class KeyResult(Schema):
    """What a key caller learns about one item."""

    match: bool
    action: str | None = Field(
        description="confirmed_csam, partner_list, survivor_reported (hashes a survivor sent: review "
        "before removing) or known_non_illegal; null if no match"
    )


class KeyAnswer(Schema):
    results: list[KeyResult]


class MatchedEntry(Schema):
    bank_id: int
    bank: str
    purpose: str
    entry_id: int
    signal_type: str
    distance: int = Field(
        description="Hamming distance for PDQ; 0 for exact digests; for vPDQ 100 minus the smaller of "
        "the two match percentages."
    )
    classification: str
    category: str
    query_match_percent: int | None = Field(
        None, description="vPDQ only: share (%) of the item's good frames found in the entry."
    )
    entry_match_percent: int | None = Field(
        None, description="vPDQ only: share (%) of the entry's good frames found in the item."
    )
    method: str = Field(
        "hash",
        description="hash: the signal within its threshold; features: an uploaded picture no hash "
        "matched, found by its local features (OPENMNR_MATCH_FEATURES; distance is then the PDQ "
        "distance, beyond the radius).",
    )
    inliers: int | None = Field(
        None, description="features only: keypoints of the entry that agree with the upload on one transform."
    )


class StaffResult(Schema):
    """What a staff caller learns about one item."""

    match: bool
    action: str | None
    matches: list[MatchedEntry]


class StaffAnswer(Schema):
    results: list[StaffResult]


class HashAnswer(Schema):
    results: list[Hashes]


_MEDIA_ERRORS = {
    media.TooLarge: (413, "too_large"),
    media.UnsupportedFormat: (415, "unsupported_format"),
    media.DecodeTimeout: (400, "decode_timeout"),
    media.CorruptMedia: (400, "corrupt_media"),
}


def _inline(schema: dict) -> dict:
    """The schema with its $defs substituted in place: a router cannot add components to the
    OpenAPI document, and the request body here is documented by hand (it has two content types)."""
    definitions = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return resolve(schema)


# What an upload part may be: the formats ``openmnr.core.media`` decodes.
UPLOAD_TYPES = (
    "image/jpeg, image/png, image/webp, image/gif, image/bmp, "
    "video/mp4, video/quicktime, video/x-matroska, video/webm, video/x-msvideo"
)


def _upload_body(description: str) -> dict:
    files = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "minItems": 1,
        "maxItems": settings.BANKS_MATCH_BATCH_MAX,
        "description": description
        + " Each part carries a filename (as curl -F and HTTP libraries send it); content that"
        " cannot be decoded is refused (400 corrupt_media).",
    }
    return {"type": "object", "properties": {"file": files}, "required": ["file"]}


def _upload_content(description: str) -> dict:
    return {"schema": _upload_body(description), "encoding": {"file": {"contentType": UPLOAD_TYPES}}}


_SIGNALS_ADAPTER = TypeAdapter(Signals | SignalsBatch)
MATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _inline(_SIGNALS_ADAPTER.json_schema())},
            "multipart/form-data": _upload_content(
                "One or more images (JPEG, PNG, WebP, GIF, BMP) or videos (MP4/MOV, Matroska/WebM, AVI)."
            ),
        },
    }
}
HASH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": _upload_content("One or more images or videos to hash.")},
    }
}
ERRORS = errors(400, 413, 415)


def _uploads(request) -> list[bytes]:
    # Key callers reach here before anything read the body; a staff session's CSRF check may have
    # parsed it already, with Django's usual handlers.
    if not hasattr(request, "_files"):
        request.upload_handlers = [InMemoryUploads(request)]
    try:
        files = request.FILES.getlist("file")
    except MultiPartParserError:
        raise Refused(400, "invalid_input", "the multipart/form-data body is malformed") from None
    except TooManyFilesSent:
        raise Refused(
            400, "too_many_items", f"at most {settings.BANKS_MATCH_BATCH_MAX} items per call"
        ) from None
    if not files:
        raise Refused(400, "invalid_input", "send the images as multipart/form-data parts named 'file'")
    _check_count(len(files))
    return [media.read_bytes(upload) for upload in files]


def _check_count(count: int) -> None:
    if count > settings.BANKS_MATCH_BATCH_MAX:
        raise Refused(400, "too_many_items", f"at most {settings.BANKS_MATCH_BATCH_MAX} items per call")


def _signals_from_json(request) -> list[dict]:
    try:
        body = request.body
    except RequestDataTooBig:
        raise Refused(413, "too_large", "the JSON body is too large; send smaller batches") from None
    try:
        document = json.loads(body)
    except ValueError:
        raise Refused(
            400, "invalid_input", "The body is not valid JSON.", {"body": "is not valid JSON"}
        ) from None
    batch = isinstance(document, dict) and "items" in document
    try:
        parsed = (SignalsBatch if batch else Signals).model_validate(document)
    except ValidationError as error:
        raise invalid_input(error.errors()) from None
    items = parsed.items if isinstance(parsed, SignalsBatch) else [parsed]
    _check_count(len(items))
    return [item.model_dump() for item in items]


def _items(request) -> list[dict]:
    """The items of a match call, from uploads (their three signals) or from JSON."""
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        return [services.upload_signals(data) for data in _uploads(request)]
    if content_type == "application/json":
        return _signals_from_json(request)
    raise Refused(415, "unsupported_media_type", "send application/json or multipart/form-data")


def _refusal(request, action: str, error: Exception):
    """The typed JSON error for a refused call, audited with its code only."""
    if isinstance(error, services.TooManyVariants):  # audited as denied by the service
        return Status(429, Refused(429, "too_many_variants", str(error)).body())
    if isinstance(error, media.MediaError):
        status, code = next(v for k, v in _MEDIA_ERRORS.items() if isinstance(error, k))
        error = Refused(status, code, str(error))
    elif isinstance(error, services.BankError):
        error = Refused(400, "invalid_input", str(error))
    audit.record(action, request=request, outcome=audit.FAILURE, detail={"error": error.code})
    return Status(error.status, error.body())


@router.post(
    "/match",
    response={200: KeyAnswer | StaffAnswer, 429: ApiError, **ERRORS},
    summary="Match images or signals against the banks",
    openapi_extra=MATCH_BODY,
)
def match(request):
    require(request, "banks.match_hashes")
    try:
        results = services.match(_items(request), user=request.user, request=request)
    except (Refused, media.MediaError, services.BankError) as error:
        return _refusal(request, "banks.match", error)
    if not allows(request, "banks.view_banks"):
        return KeyAnswer(results=[KeyResult(match=r.matched, action=r.action) for r in results])
    return StaffAnswer(
        results=[
            StaffResult(
                match=r.matched,
                action=r.action,
                matches=[MatchedEntry(**asdict(detail)) for detail in r.matches],
            )
            for r in results
        ]
    )


@router.post(
    "/hash",
    response={200: HashAnswer, **ERRORS},
    summary="Hash uploaded images without storing them",
    openapi_extra=HASH_BODY,
)
def hash_media(request):
    require(request, "banks.hash_media")
    try:
        if (request.content_type or "") != "multipart/form-data":
            raise Refused(415, "unsupported_media_type", "send the images as multipart/form-data")
        hashed = [services.hash_upload(data) for data in _uploads(request)]
    except (Refused, media.MediaError) as error:
        return _refusal(request, "banks.hash", error)
    audit.record("banks.hash", request=request, detail={"items": len(hashed)})
    return HashAnswer(results=[_hashes(h) for h in hashed])


def _hashes(hashed: signals.Hashes) -> Schema:
    fields = {}
    for name, value in hashed.items():
        fields[name] = value.value
        if signals.get(name).quality_threshold is not None:
            fields[f"{name}_quality"], fields[f"{name}_low_quality"] = value.quality, value.low_quality
    return Hashes(**fields)
