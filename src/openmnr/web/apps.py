from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class WebConfig(AppConfig):
    """The project shell: settings, URLs, the base layout, the landing page and the staff home."""

    default = True
    name = "openmnr.web"
    label = "web"


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site class (second factor, administrators only)."""

    default = False
    default_site = "openmnr.web.admin_site.AdminSite"
