"""The views at /ispws/: NCMEC's CyberTipline Reporting API, so that a provider's existing client
files here by changing only its base URL.

Thin: each view authenticates (HTTP Basic, ``credentials.authenticate``), checks the provider's
role, and calls one function of ``intake``. Answers follow NCMEC's server: HTTP 200 with a
``reportResponse`` (or ``reportDoneResponse``) whose ``responseCode`` says what happened, and 401 with
an empty body for missing or wrong credentials. Two answers add an HTTP status of their own, with
the same XML body: 413 for a body above the upload cap (answered from its Content-Length, before a
byte is read) and 405 for a wrong method. Nothing here is a 500: an unexpected failure is answered
1000 and logged (``common.failures.failure``: where it failed and what kind of error, never the error's own message,
which may quote the report), and its transaction is rolled back.
"""

import logging
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from openmnr.common.failures import failure
from openmnr.common.request import client_address
from openmnr.core.cybertipline import documents
from openmnr.core.cybertipline.codes import Code, ProtocolError

from . import credentials, intake
from .files import FIELD, spooled

logger = logging.getLogger(__name__)
XML = "application/xml; charset=UTF-8"
SUBMIT_PERMISSION = "industry.submit_report"


def xml_response(body: bytes, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type=XML, status=status)
    response["Cache-Control"] = "no-store"
    return response


def unauthorized() -> HttpResponse:
    response = HttpResponse(b"", status=401)
    response["WWW-Authenticate"] = 'Basic realm="ispws", charset="UTF-8"'
    return response


def too_large(request, limit: int) -> HttpResponse:
    """The answer to a body above the cap, made without reading it (also used by the middleware)."""
    body = documents.report_response(
        Code.INVALID_REQUEST,
        f"Invalid request: the request body is larger than the limit of {limit} bytes",
    )
    response = xml_response(body, status=413)
    return response


def protocol(method: str, *, provider_required: bool = True):
    """Wrap a view: method check, authentication, role check, protocol errors into answers."""

    def decorate(view):
        @wraps(view)
        def wrapped(request):
            credential, allowed = credentials.authenticate_cached(
                request.headers.get("Authorization", ""), SUBMIT_PERMISSION
            )
            if credential is None:
                return unauthorized()
            provider = credential.provider
            request.user = provider
            if request.method != method:
                body = documents.report_response(Code.INVALID_REQUEST, f"Invalid request: use {method}")
                response = xml_response(body, status=405)
                response["Allow"] = method
                return response
            if provider_required and not allowed:
                return xml_response(
                    documents.report_response(
                        Code.NOT_AUTHORIZED_FOR_SUBMISSIONS,
                        "Not authorized for submissions: this account is not an industry reporter",
                    )
                )
            try:
                return view(request, provider)
            except ProtocolError as error:
                return xml_response(documents.error_response(error))
            except Exception as exc:
                logger.error(
                    "ispws %s failed, answered 1000 (request %s): %s",
                    request.path,
                    getattr(request, "request_id", ""),
                    failure(exc),
                )
                return xml_response(
                    documents.report_response(Code.SERVER_ERROR, "Server error: try again later")
                )

        # It checks its caller itself: it may run in the lean middleware chain (openmnr.web.lean).
        wrapped.authenticates_itself = True
        return login_not_required(csrf_exempt(never_cache(wrapped)))

    return decorate


@protocol("GET", provider_required=False)
def status(request, provider):
    description = f"Remote User : {provider.get_username()}, Remote Ip : {client_address(request)}"
    return xml_response(documents.report_response(Code.SUCCESS, description))


@login_not_required
def xsd(request):
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    response = HttpResponse(documents.schema_bytes(), content_type=XML)
    response["Cache-Control"] = "public, max-age=3600"
    return response


xsd.authenticates_itself = True  # public: the schema we validate with


def _document(request) -> bytes:
    """The XML body, read directly (Django's form-size limit is for forms, not for documents):
    refused from its Content-Length above the document cap, before it is read."""
    limit = settings.INDUSTRY_MAX_XML_BYTES
    if _declared_length(request) > limit:
        raise ProtocolError(
            Code.MALFORMED_XML, f"Malformed XML: the document is larger than the limit of {limit} bytes"
        )
    return request.read(limit + 1)


@protocol("POST")
def submit(request, provider):
    report = intake.submit(provider, _document(request), request=request)
    return xml_response(documents.report_response(Code.SUCCESS, report_id=report.pk))


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@protocol("POST")
def upload(request, provider):
    limit = settings.INDUSTRY_MAX_FILE_BYTES + settings.INDUSTRY_MULTIPART_SLACK_BYTES
    if _declared_length(request) > limit:
        return too_large(request, limit)
    if not request.content_type.startswith("multipart/form-data"):
        raise ProtocolError(
            Code.INVALID_REQUEST, "Invalid request: send multipart/form-data with 'id' and 'file'"
        )
    with spooled(request):
        try:
            report_id, upload = request.POST.get("id"), request.FILES.get(FIELD)
        except Exception as exc:  # a broken multipart body: Django's MultiPartParserError and kin
            raise ProtocolError(
                Code.MALFORMED_FILE, f"Malformed file: the multipart body cannot be read ({exc})"
            ) from None
        file = intake.upload(provider, report_id, upload, request=request)
    return xml_response(
        documents.report_response(Code.SUCCESS, report_id=file.report_id, file_id=file.file_id, md5=file.md5)
    )


@protocol("POST")
def fileinfo(request, provider):
    file = intake.fileinfo(provider, _document(request), request=request)
    return xml_response(
        documents.report_response(Code.SUCCESS, report_id=file.report_id, file_id=file.file_id)
    )


def _form_id(request):
    try:
        return request.POST.get("id")
    except Exception as exc:
        raise ProtocolError(
            Code.INVALID_REQUEST, f"Invalid request: the form cannot be read ({exc})"
        ) from None


@protocol("POST")
def finish(request, provider):
    report, file_ids = intake.finish(provider, _form_id(request), request=request)
    return xml_response(documents.report_done_response(report.pk, file_ids))


@protocol("POST")
def retract(request, provider):
    report = intake.retract(provider, _form_id(request), request=request)
    return xml_response(documents.report_response(Code.SUCCESS, report_id=report.pk))


upload.max_request_bytes = lambda: settings.INDUSTRY_MAX_FILE_BYTES + settings.INDUSTRY_MULTIPART_SLACK_BYTES
for _view in (status, submit, upload, fileinfo, finish, retract):
    _view.request_too_large = too_large
