"""Included under /staff/live/."""

from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("", views.alerts_view, name="alerts"),
    path("rows/", views.alerts_rows_view, name="rows"),
    path("<int:alert_id>/", views.alert_view, name="alert"),
    path("<int:alert_id>/state/", views.transition_view, name="transition"),
    path("<int:alert_id>/reveal/", views.reveal_view, name="reveal"),
    path("<int:alert_id>/hide/", views.hide_view, name="hide"),
    path("<int:alert_id>/frames/<int:frame_id>/", views.frame_view, name="frame"),
]
