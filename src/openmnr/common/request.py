"""Facts about the request being served."""

from contextvars import ContextVar

from django.conf import settings

# The request being served, for code that has no request in hand (signal receivers that audit
# changes made in the admin site). Set by ``openmnr.web.middleware.RequestIdMiddleware``.
current_request: ContextVar = ContextVar("current_request", default=None)


def client_address(request) -> str:
    """The client's IP address. Behind a reverse proxy (OPENMNR_BEHIND_PROXY=1) it is the last
    address the proxy appended to X-Forwarded-For, the only one a client cannot forge."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
