"""Included under /staff/exchange/. Every view needs a staff permission."""

from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("outbox/<int:row_id>/retry/", views.retry_view, name="retry"),
    path("outbox/<int:row_id>/dismiss/", views.dismiss_view, name="dismiss"),
    path("federation-public-key.pem", views.public_key_view, name="public-key"),
]
