"""What a request answers when the database is unreachable: 503 with Retry-After, never 500.

A database that is restarted, failed over or briefly overloaded is an outage of the service, not
a fault of the request: a partner's client and a browser both understand 503 with Retry-After as
"send it again in a moment", and the partner's Idempotency-Key makes the retry safe. Nothing is
acknowledged while the database is away (an answer 202 is sent only after the commit), so nothing
acknowledged is lost.

Django turns every exception a view or middleware raises into a call of ``handler500`` while the
exception is still being handled, so the handler can tell a lost database (``OperationalError``,
``InterfaceError``) from a bug and answer 503 for the first: the API's error shape under /api/, a short page
elsewhere, rendered without the database (no context processors, no session). Any other exception
keeps Django's own 500 page. Connections are health-checked before reuse (``CONN_HEALTH_CHECKS``),
so the first request after the database returns does not fail on a dead connection.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import get_template
from django.views import defaults

from openmnr.common import apierrors

RETRY_AFTER_SECONDS = 30


def database_unavailable(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = apierrors.json_response(
            503,
            "unavailable",
            "The service is briefly unavailable (its database cannot be reached); send it again.",
        )
    else:
        page = get_template("web/unavailable.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request, *args, **kwargs) -> HttpResponse:
    """``handler500``: 503 when the exception being handled is a lost database, else Django's 500."""
    error = sys.exc_info()[1]
    while error is not None:
        if isinstance(error, OperationalError | InterfaceError):
            return database_unavailable(request)
        error = error.__cause__ or error.__context__
    return defaults.server_error(request, *args, **kwargs)
