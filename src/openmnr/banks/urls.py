from django.urls import path

from . import views

app_name = "banks"
urlpatterns = [
    path("", views.bank_list, name="list"),
    path("new/", views.bank_edit, name="new"),
    path("queue/", views.queue, name="queue"),
    path("index/", views.index_status, name="index-status"),
    path("match/", views.match_page, name="match"),
    path("match/propose-video/", views.propose_video, name="propose-video"),
    path("<int:pk>/", views.bank_detail, name="detail"),
    path("<int:pk>/edit/", views.bank_edit, name="edit"),
    path("<int:pk>/propose/", views.propose, name="propose"),
    path("<int:pk>/propose-picture/", views.propose_picture, name="propose-picture"),
    path("<int:pk>/import/", views.import_list, name="import"),
    path("<int:pk>/export/", views.export_list, name="export"),
    path("entries/<int:pk>/confirm/", views.confirm_entry, name="confirm-entry"),
    path("entries/<int:pk>/disable/", views.disable_entry, name="disable-entry"),
    path("imports/<int:pk>/confirm/", views.confirm_import, name="confirm-import"),
]
