"""Request-level safeguards that every app relies on."""

import re
import uuid

from django.conf import settings
from django.http import HttpResponse

from openmnr.common.request import current_request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id, echoed in the X-Request-ID header and written to the audit log,
    so an operator can tie a complaint, a log line and an audit event together."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies with 413 before anything reads them into memory.

    Django's own limits raise only once the body is being parsed, and answer 400; a declared
    Content-Length lets us answer early and truthfully. A body without a length (chunked) is refused
    with 411, because its size cannot be bounded up front.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        if request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked" and not length:
            return HttpResponse(
                "A request body needs a Content-Length.\n", status=411, content_type="text/plain"
            )
        if length:
            try:
                size = int(length)
            except ValueError:
                return HttpResponse("Invalid Content-Length.\n", status=400, content_type="text/plain")
            if size > settings.MAX_REQUEST_BYTES:
                return HttpResponse(
                    f"Request body too large: the limit is {settings.MAX_REQUEST_BYTES} bytes.\n",
                    status=413,
                    content_type="text/plain",
                )
        return self.get_response(request)
