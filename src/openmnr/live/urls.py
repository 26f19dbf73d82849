"""Included under /staff/live/."""

from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("", views.alerts_view, name="alerts"),
    path("rows/", views.alerts_rows_view, name="rows"),
    path("<int:alert_id>/", views.alert_view, name="alert"),
    path("<int:alert_id>/state/", views.transition_view, name="transition"),
]
