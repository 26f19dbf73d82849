"""Request-level safeguards that every app relies on."""

import json
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


class ApiErrorShapeMiddleware:
    """Every refusal under /api/ comes in the API's one error shape, whoever wrote it.

    ``openmnr.web.api`` shapes what django-ninja raises inside an operation. Some answers are
    written before or outside any operation, in Django's or ninja's own formats: a method a path
    does not take (ninja's bare 405), a path no operation has (Django's 404 page), a body refused
    before it is read (411, 413, a bad Content-Length), the 500 page of a bug. An integrator
    branches on ``error`` whatever the status, so this middleware, placed outside all of those,
    rewrites any answer of status 400 or more under /api/ whose body is not already the shape into
    ``{"error", "detail", "fields"}``, keeping its status and headers (``Allow``, ``Retry-After``,
    ``WWW-Authenticate``).

    The trade-off: a rewrite after the fact rather than one handler per source of error, because
    the sources are several libraries' internals (ninja's ``PathView``, Django's handlers, our own
    middleware) and a list of them would miss the next one; the rule "anything 4xx/5xx under /api/
    has the shape" is what the document promises and what ``tests/api/test_error_statuses.py``
    checks. A plain-text refusal keeps its sentence as ``detail``; an HTML page (the 404 and 500
    pages) is replaced by a sentence, and a 500 never shows its traceback (it is in the log).
    """

    PREFIX = "/api/"
    _DETAILS = {
        404: "No such path or object: the operations are listed at /api/v1/docs and /api/v1/openapi.json.",
        500: "The server failed on this request; the failure is logged under this request's X-Request-ID. "
        "Send it again later, or give the operator that id.",
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(self.PREFIX)
            and not getattr(response, "streaming", False)
            and not self._shaped(response)
        ):
            self._reshape(request, response)
        return response

    @staticmethod
    def _json(response):
        if not response.get("Content-Type", "").startswith("application/json"):
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            return None

    def _shaped(self, response) -> bool:
        body = self._json(response)
        return isinstance(body, dict) and {"error", "detail", "fields"} <= set(body)

    def _reshape(self, request, response) -> None:
        status = response.status_code
        body = self._json(response)
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            detail = body["detail"]
        elif response.get("Content-Type", "").startswith("text/plain") and 0 < len(response.content) < 500:
            detail = response.content.decode("utf-8", "replace").strip()
        elif status == 405:
            allowed = response.get("Allow", "")
            detail = f"This path does not take {request.method}; it takes {allowed or 'no method'}."
        else:
            detail = self._DETAILS.get(status, f"The request was refused (HTTP {status}).")
        if status >= 500 and status != 503:
            detail = self._DETAILS[500]
        response.content = json.dumps(apierrors.body(apierrors.code_for(status), detail))
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):  # set by CommonMiddleware for the old body
            response["Content-Length"] = str(len(response.content))
