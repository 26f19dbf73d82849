"""The administration site's account pages, made safe against an administrator acting as someone
else: second-factor secrets are never shown, resetting a password or a second factor goes through
``resets.reset_credentials`` (step-up, audit, the user told, re-enrolment forced), and nobody
changes their own roles or makes anyone a superuser here."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice

from openmnr.common.request import current_request

from . import resets
from .models import ApiKey
from .roles import ROLE_BY_NAME, ROLES
from .stepup import has_recent_second_factor, step_up_redirect


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Read-only: keys are issued and revoked on the API keys page, where the key is shown once
    and both actions are audited."""

    list_display = ["prefix", "name", "owner", "rate_limit_per_minute", "created_at", "revoked_at"]
    readonly_fields = [f.name for f in ApiKey._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ResetPasswordForm(AdminPasswordChangeForm):
    """Django's form, saved through reset_credentials: a new password also removes the second
    factor, ends the user's sessions, is audited and tells the user."""

    def save(self, commit=True):
        request = current_request.get()
        usable = self.cleaned_data["set_usable_password"]
        resets.reset_credentials(
            self.user,
            by=request.user,
            password=self.cleaned_data["password1"] if usable else None,
            unusable_password=not usable,
            request=request,
        )
        return self.user


User = get_user_model()
admin.site.unregister(User)


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, group):
        role = ROLE_BY_NAME.get(group.name)
        return role.label if role else group.name


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Accounts with their roles. A user's rights come from roles only: the form offers the roles
    (the groups of ``roles.ROLES``, by their labels) and nothing else; single permissions and
    superuser status are not on it (a superuser is made on the command line, ``openmnr manage
    createsuperuser``), and "staff status" follows the administrator role, because it is what the
    administration site checks. The list shows each user's roles and whether a second factor is
    enrolled."""

    change_password_form = ResetPasswordForm
    list_display = ["username", "role_labels", "second_factor_status", "is_active", "last_login"]
    list_filter = ["groups", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("Roles", {"fields": ["is_active", "groups", "is_superuser"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    always_read_only = ("is_superuser", "last_login", "date_joined", "second_factor")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def role_labels(self, user):
        names = {group.name for group in user.groups.all()}
        labels = [role.label for role in ROLES if role.name in names]
        return ", ".join(labels) or "none"

    @admin.display(description="Second factor", boolean=True)
    def second_factor_status(self, user):
        return TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            return RoleChoiceField(
                queryset=Group.objects.filter(name__in=ROLE_BY_NAME).order_by("name"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                label="Roles",
                help_text="What the user may do (docs/roles.md). Staff roles sign in with a second factor; "
                "industry members and partner hotlines use API keys only.",
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        is_administrator = user.groups.filter(name="administrator").exists()
        if user.is_staff != is_administrator:
            user.is_staff = is_administrator
            user.save(update_fields=["is_staff"])

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.always_read_only) if obj is not None else []
        if obj is not None and obj.pk == request.user.pk:
            fields += ["groups", "is_active"]  # no one changes their own roles
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [*fieldsets, ("Second factor", {"fields": ["second_factor"]})]

    @admin.display(description="Authenticator")
    def second_factor(self, user):
        devices = TOTPDevice.objects.filter(user=user, confirmed=True).count()
        url = reverse("admin:accounts_reset_second_factor", args=[user.pk])
        state = f"{devices} confirmed authenticator(s)" if devices else "none: enrols at the next sign-in"
        return format_html('{} — <a href="{}">reset the second factor</a>', state, url)

    def get_urls(self):
        return [
            path(
                "<id>/reset-second-factor/",
                self.admin_site.admin_view(self.reset_second_factor_view),
                name="accounts_reset_second_factor",
            ),
            *super().get_urls(),
        ]

    def user_change_password(self, request, id, form_url=""):
        if not has_recent_second_factor(request):
            return step_up_redirect(request)
        return super().user_change_password(request, id, form_url)

    def reset_second_factor_view(self, request, id):
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("No such user.")
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if not has_recent_second_factor(request):
            return step_up_redirect(request)
        if request.method == "POST":
            resets.reset_credentials(user, by=request.user, request=request)
            messages.success(
                request,
                f"{user.get_username()}'s second factor was reset; they were told and must enrol again.",
            )
            if user.pk == request.user.pk:
                return redirect("accounts:sign-in")
            return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reset the second factor of {user.get_username()}",
            "original": user,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/accounts/reset_second_factor.html", context)


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Which users have an authenticator, and nothing of its secret: no key, no QR code, no
    changes (a second factor is reset from the user's page)."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = list_display
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
