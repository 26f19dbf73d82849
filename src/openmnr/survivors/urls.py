"""Included at the site root: the public page under /take-it-down/, staff pages under /staff/survivors/."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.views.i18n import set_language

from . import staff, views

app_name = "survivors"
urlpatterns = [
    path("take-it-down/", views.page_view, name="page"),
    path("take-it-down/cases/", views.open_view, name="open"),
    path("take-it-down/add/", views.add_view, name="add"),
    path("take-it-down/items/", views.add_items_view, name="add-items"),
    path("take-it-down/status/", views.status_view, name="status"),
    path("take-it-down/withdraw/", views.withdraw_view, name="withdraw"),
    path("take-it-down/language/", login_not_required(set_language), name="language"),
    path("staff/survivors/", staff.activity_view, name="activity"),
    path("staff/survivors/held/", staff.held_view, name="held"),
    path("staff/survivors/lookup/", staff.lookup_view, name="lookup"),
    path("staff/survivors/items/<int:item_id>/", staff.item_view, name="item"),
    path("staff/survivors/items/<int:item_id>/release/", staff.release_view, name="release"),
    path("staff/survivors/items/<int:item_id>/reject/", staff.reject_view, name="reject"),
    path("staff/survivors/items/<int:item_id>/propose/", staff.propose_view, name="propose"),
    path("staff/survivors/cases/<int:case_id>/close/", staff.close_view, name="close"),
]
