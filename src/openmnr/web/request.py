"""Facts about the client of a request."""

from django.conf import settings


def client_address(request) -> str:
    """The client's IP address. Behind a reverse proxy (OPENMNR_BEHIND_PROXY=1) it is the last
    address the proxy appended to X-Forwarded-For, the only one a client cannot forge."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
