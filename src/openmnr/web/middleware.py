"""Request-level safeguards that every app relies on."""

import re
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve

from openmnr.common import apierrors
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
    with 411, because its size cannot be bounded up front. A view may raise its own cap
    (``view.max_request_bytes()``) and answer a refusal in its protocol's format
    (``view.request_too_large(request, limit)``); the body is still never read.
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
            if size > settings.MAX_REQUEST_BYTES and (refused := self._too_large(request, size)):
                return refused
        return self.get_response(request)

    @staticmethod
    def _too_large(request, size: int):
        try:
            match = resolve(request.path_info)
            view = match.func
        except Resolver404:
            match = view = None
        limit = settings.MAX_REQUEST_BYTES
        own_limit = getattr(view, "max_request_bytes", None)
        if callable(own_limit):
            limit = max(limit, own_limit())
        if size <= limit:
            return None
        refuse = getattr(view, "request_too_large", None)
        if refuse is not None:
            return refuse(request, limit)
        if match is not None and "api" in match.namespaces:  # the JSON API's one error shape
            return apierrors.json_response(
                413, "too_large", f"The body is too large: the limit is {limit} bytes; send smaller batches."
            )
        return HttpResponse(
            f"Request body too large: the limit is {limit} bytes.\n", status=413, content_type="text/plain"
        )
