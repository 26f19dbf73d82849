"""/staff/industry/: the law-enforcement and analyst pages of industry reports (see views.py)."""

from django.urls import path

from . import views

app_name = "industry"
urlpatterns = [
    path("", views.queue_view, name="queue"),
    path("forwarding/", views.forwarding_view, name="forwarding"),
    path("cases/<int:case_id>/", views.case_view, name="case"),
    path("cases/<int:case_id>/group/", views.group_view, name="group"),
    path("cases/<int:case_id>/outcome/", views.outcome_view, name="outcome"),
    path("cases/<int:case_id>/export/", views.export_view, name="export"),
    path("files/<int:pk>/", views.file_view, name="file"),
    path("files/<int:pk>/reveal/", views.reveal_view, name="reveal"),
    path("files/<int:pk>/hide/", views.hide_view, name="hide"),
    path("files/<int:pk>/media/", views.media_view, name="media"),
    path("files/<int:pk>/thumbnail/", views.thumbnail_view, name="thumbnail"),
    path("statistics/", views.statistics_view, name="statistics"),
    path("credentials/", views.credentials_view, name="credentials"),
    path("credentials/<int:pk>/revoke/", views.revoke_view, name="revoke"),
]
