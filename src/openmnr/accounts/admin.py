from django.contrib import admin

from .models import ApiKey


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
