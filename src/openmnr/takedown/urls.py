"""Included under /staff/takedown/. Every view needs a staff permission except the acknowledgement
link, which a notice's recipient opens without an account."""

from django.urls import path

from . import views

app_name = "takedown"
urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/decide/", views.decide_view, name="decide"),
    path("cases/<int:case_id>/referral/", views.send_referral_view, name="send-referral"),
    path("referrals/", views.referrals_view, name="referrals"),
    path("referrals/<int:referral_id>/download/", views.download_referral_view, name="download-referral"),
    path("referrals/hotline-public-key.pem", views.public_key_view, name="public-key"),
    path("statistics/", views.stats_view, name="stats"),
    path("statistics/summary.csv", views.stats_csv_view, name="stats-csv"),
    path("statistics/cases.csv", views.cases_csv_view, name="cases-csv"),
    path("ack/<str:token>/", views.acknowledge_view, name="acknowledge"),
]
