"""The Django administration site, for administrators only and only after the second factor."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


class AdminSite(admin.AdminSite):
    site_header = "OpenMNR administration"
    site_title = "OpenMNR administration"
    index_title = "Administration"

    def has_permission(self, request):
        user = request.user
        return (
            user.is_active and user.is_staff and user.is_verified() and user.has_perm("accounts.manage_users")
        )

    def login(self, request, extra_context=None):
        # One sign-in page for everybody (password and TOTP); a signed-in user who lands here
        # lacks the administrator role.
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
