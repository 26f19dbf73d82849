"""The routing data on the administration site (administrators only): the rules and legal text
(`Policy`, one row) and the directory. Every change is audited in the same transaction."""

from django.contrib import admin

from openmnr.audit import services as audit

from .models import DirectoryEntry, Policy


class AuditedAdmin(admin.ModelAdmin):
    action_name = ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            f"takedown.{self.action_name}.{'change' if change else 'add'}",
            request=request,
            obj=obj,
            detail={"fields": sorted(form.changed_data)},
        )

    def delete_model(self, request, obj):
        audit.record(
            f"takedown.{self.action_name}.delete", request=request, obj=obj, detail={"name": str(obj)}
        )
        super().delete_model(request, obj)


@admin.register(Policy)
class PolicyAdmin(AuditedAdmin):
    action_name = "policy"
    fields = ["rules", "legal_text_en", "legal_text_pt", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Policy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DirectoryEntry)
class DirectoryEntryAdmin(AuditedAdmin):
    action_name = "directory"
    list_display = ["name", "kind", "country", "asn", "cdn", "api_url", "language", "active"]
    list_filter = ["kind", "active", "language"]
    search_fields = ["name", "emails", "country", "cdn"]
    filter_horizontal = ["members"]
    readonly_fields = ["webhook_secret"]
    # Deleting an entry that a referral names is refused (PROTECT); deactivate it instead.
    fields = [
        "kind",
        "name",
        "country",
        "asn",
        "cdn",
        "emails",
        "api_url",
        "webhook_secret",
        "language",
        "recipient_key",
        "members",
        "active",
    ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "members":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(groups__name="law_enforcement")
        return super().formfield_for_manytomany(db_field, request, **kwargs)
