"""Included at the site root: the public pages under /report/, the staff pages under /staff/hotline/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import set_language

from . import held_views, item_views, views

app_name = "hotline"
urlpatterns = [
    path("report/", views.report_view, name="report"),
    path("report/status/", views.status_view, name="status"),
    path("report/language/", login_not_required(set_language), name="language"),
    path("staff/hotline/", views.queue_view, name="queue"),
    path("staff/hotline/cases/<int:case_id>/", views.case_view, name="case"),
    path("staff/hotline/cases/<int:case_id>/claim/", views.claim_view, name="claim"),
    path("staff/hotline/cases/<int:case_id>/release/", views.release_view, name="release"),
    path("staff/hotline/cases/<int:case_id>/complete/", views.complete_view, name="complete"),
    path("staff/hotline/cases/<int:case_id>/set-aside/", views.set_aside_view, name="set-aside"),
    path("staff/hotline/cases/<int:case_id>/site/", views.site_view, name="site"),
    path("staff/hotline/without-address/", views.without_address_view, name="without-address"),
    path("staff/hotline/without-address/<int:submission_id>/handled/", views.handled_view, name="handled"),
    path("staff/hotline/statistics/", views.statistics_view, name="statistics"),
    path("staff/hotline/held/", held_views.holds_view, name="holds"),
    path("staff/hotline/held/<int:case_id>/", held_views.hold_view, name="hold"),
    path("staff/hotline/held/<int:case_id>/release/", held_views.hold_release_view, name="hold-release"),
    path("staff/hotline/held/<int:case_id>/keep/", held_views.hold_keep_view, name="hold-keep"),
    path(
        "staff/hotline/held/items/<int:item_id>/thumbnail/",
        held_views.held_thumbnail_view,
        name="held-thumbnail",
    ),
    path("staff/hotline/items/<int:item_id>/", item_views.item_view, name="item"),
    path("staff/hotline/items/<int:item_id>/classify/", item_views.classify_view, name="classify"),
    path("staff/hotline/items/<int:item_id>/propose/", item_views.propose_view, name="propose"),
    path("staff/hotline/items/<int:item_id>/reveal/", item_views.reveal_view, name="reveal"),
    path("staff/hotline/items/<int:item_id>/hide/", item_views.hide_view, name="hide"),
    path("staff/hotline/items/<int:item_id>/media/", item_views.media_view, name="media"),
    path("staff/hotline/items/<int:item_id>/thumbnail/", item_views.thumbnail_view, name="thumbnail"),
]
