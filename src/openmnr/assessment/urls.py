from django.urls import path

from . import regional_views, signing_views, views

app_name = "assessment"
urlpatterns = [
    path("", views.cycles, name="cycles"),
    path("open/", views.open_cycle, name="open"),
    path("comparison/", regional_views.comparison_page, name="comparison"),
    path("comparison/import/", regional_views.import_results, name="import-results"),
    path(
        "comparison/<int:imported_id>/documents/<str:sha256>/",
        regional_views.imported_document,
        name="imported-document",
    ),
    path("peers/", regional_views.peers, name="peers"),
    path("peers/<int:peer_id>/remove/", regional_views.remove_peer, name="remove-peer"),
    path("<int:cycle_id>/", views.dashboard, name="dashboard"),
    path("<int:cycle_id>/domains/", views.domains, name="domains"),
    path("<int:cycle_id>/capabilities/<int:number>/", views.capability, name="capability"),
    path("<int:cycle_id>/capabilities/<int:number>/evidence/", views.add_evidence, name="add-evidence"),
    path("<int:cycle_id>/evidence/<int:evidence_id>/", views.evidence_download, name="evidence"),
    path("<int:cycle_id>/evidence/<int:evidence_id>/remove/", views.remove_evidence, name="remove-evidence"),
    path("<int:cycle_id>/comments/", views.comment, name="comment"),
    path("<int:cycle_id>/state/", signing_views.transition, name="transition"),
    path("<int:cycle_id>/sign/", signing_views.sign, name="sign"),
    path("<int:cycle_id>/history/", views.history, name="history"),
    path("<int:cycle_id>/export.<str:fmt>", views.export, name="export"),
    path("<int:cycle_id>/results/", regional_views.export_results, name="export-results"),
]
