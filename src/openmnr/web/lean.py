"""A shorter middleware chain for the paths that answer their own protocol (``/ispws/``).

The CyberTipline API authenticates every call itself (HTTP Basic, ``industry.ispws.protocol``),
is exempt from CSRF and from sign-in, and never reads a session, a message or the language: the
session, locale, CSRF, authentication, second-factor, sign-in and message middleware of the staff
site did nothing for it but cost every one of a report's five requests their time (decision 0035).
``LeanPathsMiddleware``, first in ``MIDDLEWARE``, sends a request whose path starts with one of
``LEAN_PREFIXES`` through ``LEAN_MIDDLEWARE`` instead of the rest of the stack.

Invariants kept: the lean chain keeps every middleware that shapes what such a request is allowed
or answered (security headers, the request id the audit records, the body size refusal before a
byte is read, ``no-store``, Content-Length, frame and content-security headers); and a view under
a lean prefix must say it authenticates itself (the attribute ``authenticates_itself``, which
``industry.ispws`` sets on its views), else the chain answers 404 without calling it, so a
view added there later without its own check is refused rather than left open. The trade-off:
the lean paths no longer get a staff session's user in ``request.user`` (their views set the
account they authenticated) nor the ``Vary: Cookie`` and ``Content-Language`` headers.
"""

from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpResponseNotFound
from django.utils.module_loading import import_string

LEAN_PREFIXES = ("/ispws/",)
LEAN_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "openmnr.web.middleware.RequestIdMiddleware",
    "openmnr.web.middleware.RequestSizeLimitMiddleware",
    "openmnr.accounts.middleware.NoStoreMiddleware",
    "django.middleware.common.CommonMiddleware",
    "openmnr.web.lean.SelfAuthenticatingViewsOnly",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]


class SelfAuthenticatingViewsOnly:
    """In the lean chain: refuse (404) a view that does not say it authenticates itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "authenticates_itself", False):
            return None
        return HttpResponseNotFound(b"", content_type="text/plain")


class _Chain(BaseHandler):
    """Django's request handling (URL resolution, view middleware, exceptions into responses) with
    the given middleware instead of ``settings.MIDDLEWARE``; synchronous, as the WSGI server is."""

    def __init__(self, paths: list[str]):
        super().__init__()
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        handler = convert_exception_to_response(self._get_response)
        for path in reversed(paths):
            middleware = import_string(path)(handler)
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class LeanPathsMiddleware:
    """First in ``MIDDLEWARE``: a request under ``LEAN_PREFIXES`` goes through ``LEAN_MIDDLEWARE``
    (then its view) instead of the rest of the stack; every other request is untouched."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = LEAN_PREFIXES
        self.lean = _Chain(LEAN_MIDDLEWARE)

    def __call__(self, request):
        if request.path_info.startswith(self.prefixes):
            return self.lean._middleware_chain(request)
        return self.get_response(request)
