"""Included at the site root: staff pages under /staff/blocking/, the deterrence page at /blocked/."""

from django.urls import path

from . import partner_views, views

app_name = "blocking"
urlpatterns = [
    path("staff/blocking/", views.dashboard_view, name="dashboard"),
    path("staff/blocking/publish/", views.publish_view, name="publish"),
    path("staff/blocking/keywords/", views.keywords_view, name="keywords"),
    path(
        "staff/blocking/keywords/<int:keyword_id>/confirm/",
        views.confirm_keyword_view,
        name="confirm-keyword",
    ),
    path(
        "staff/blocking/keywords/<int:keyword_id>/disable/",
        views.disable_keyword_view,
        name="disable-keyword",
    ),
    path("staff/blocking/partners/", partner_views.partners_view, name="partners"),
    path("staff/blocking/partners/<int:partner_id>/", partner_views.partner_view, name="partner"),
    path(
        "staff/blocking/partners/<int:partner_id>/fetch/",
        partner_views.partner_fetch_view,
        name="partner-fetch",
    ),
    path(
        "staff/blocking/partners/<int:partner_id>/upload/",
        partner_views.partner_upload_view,
        name="partner-upload",
    ),
    path(
        "staff/blocking/partners/<int:partner_id>/remove/",
        partner_views.partner_remove_view,
        name="partner-remove",
    ),
    path("blocked/", views.deterrence_view, name="deterrence"),
    path("blocked/help/<int:index>/", views.help_view, name="help"),
]
