"""The federation inbox: POST /api/v1/federation/inbox. No API key: a message proves its sender by
its Ed25519 signature (see openmnr.core.exchange.federation), checked in inbox.receive."""

from ninja import Router, Schema
from ninja.responses import Status

from openmnr.core.exchange.federation import MAX_MESSAGE_BYTES, SIGNATURE_HEADER

from . import inbox as federation_inbox

router = Router(tags=["exchange"])


class Accepted(Schema):
    status: str
    message: str
    case: int | None = None
    new: bool | None = None


class Refusal(Schema):
    """The API's error shape; ``reason`` repeats ``error`` for peers that read the older name."""

    error: str
    detail: str
    fields: dict[str, str]
    reason: str


# What the document can say of a message before its signature is checked: a JSON object naming its
# sender's key. The rest of the envelope (docs/exchange.md) is checked once the signature is, and a
# message from a key no partner holds is refused 401 whatever it says.
INBOX_BODY = {
    "parameters": [
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": "The Ed25519 signature of the body (base64).",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "description": f"The signed message envelope (JSON, at most {MAX_MESSAGE_BYTES} bytes; docs/exchange.md).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["sender"],
                    "properties": {
                        "sender": {
                            "type": "string",
                            "pattern": "^[0-9a-f]{32}$",
                            "description": "The sender's key id: 32 hexadecimal digits.",
                        }
                    },
                }
            }
        },
    },
}


@router.post(
    "/federation/inbox",
    openapi_extra=INBOX_BODY,
    auth=None,
    summary="Receive a signed message from a federation partner",
    description=(
        "The body is the message envelope (JSON), the header X-OpenMNR-Federation-Signature its "
        "Ed25519 signature. 202: applied. 409 with reason 'replayed': this message id was applied "
        "before (a sender's retry learns that its first try arrived)."
    ),
    response={
        202: Accepted,
        400: Refusal,
        401: Refusal,
        404: Refusal,
        409: Refusal,
        413: Refusal,
        429: Refusal,
        503: Refusal,
    },
)
def inbox(request):
    status, answer = federation_inbox.receive(
        request.body, request.headers.get(SIGNATURE_HEADER, ""), request=request
    )
    if status >= 400:
        answer = {
            "error": answer["reason"],
            "detail": answer["detail"],
            "fields": {},
            "reason": answer["reason"],
        }
    return Status(status, answer)
