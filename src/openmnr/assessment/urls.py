from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.cycles, name="cycles"),
    path("open/", views.open_cycle, name="open"),
    path("<int:cycle_id>/", views.dashboard, name="dashboard"),
    path("<int:cycle_id>/domains/", views.domains, name="domains"),
    path("<int:cycle_id>/capabilities/<int:number>/", views.capability, name="capability"),
    path("<int:cycle_id>/capabilities/<int:number>/evidence/", views.add_evidence, name="add-evidence"),
    path("<int:cycle_id>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("<int:cycle_id>/evidence/<int:evidence_id>/remove/", views.remove_evidence, name="remove-evidence"),
    path("<int:cycle_id>/comments/", views.comment, name="comment"),
    path("<int:cycle_id>/state/", views.transition, name="transition"),
    path("<int:cycle_id>/history/", views.history, name="history"),
    path("<int:cycle_id>/export.<str:fmt>", views.export, name="export"),
]
