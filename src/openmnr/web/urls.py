from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from . import views
from .api import api


def _public(patterns):
    """The API authenticates each call itself (keys or session), so sign-in redirects do not apply."""
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _public(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


api_urls, api_app, api_namespace = api.urls

# A lost database answers 503 with Retry-After, never 500 (errors.py).
handler500 = "openmnr.web.errors.server_error"

# The API first: every API call resolves its path, and a pattern list is tried in order (the
# API's prefix is taken by no other app, so the order changes no answer).
urlpatterns = [
    path("api/v1/", include((_public(api_urls), api_app), namespace=api_namespace)),
    path("", views.landing, name="landing"),
    path("staff/", views.staff_home, name="staff-home"),
    path("accounts/", include("openmnr.accounts.urls")),
    path("staff/audit/", include("openmnr.audit.urls")),
    path("staff/banks/", include("openmnr.banks.urls")),
    path("", include("openmnr.hotline.urls")),
    path("staff/takedown/", include("openmnr.takedown.urls")),
    path("staff/assessment/", include("openmnr.assessment.urls")),
    path("ispws/", include("openmnr.industry.ispws_urls")),
    path("staff/industry/", include("openmnr.industry.urls")),
    path("", include("openmnr.survivors.urls")),
    path("staff/exchange/", include("openmnr.exchange.urls")),
    path("", include("openmnr.blocking.urls")),
    path("staff/live/", include("openmnr.live.urls")),
    path("admin/", admin.site.urls),
]
