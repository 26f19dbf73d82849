"""Federation partners on the administration site (administrators only). Every change is audited
in the same transaction; the key id is computed from the key, never typed."""

from django.contrib import admin

from openmnr.audit import services as audit

from .models import Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "base_url", "key_id", "active"]
    fields = ["name", "country", "base_url", "public_key", "key_id", "active", "created_at"]
    readonly_fields = ["key_id", "created_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            f"exchange.partner.{'change' if change else 'add'}",
            request=request,
            obj=obj,
            detail={"fields": sorted(form.changed_data), "key_id": obj.key_id},
        )

    def delete_model(self, request, obj):
        audit.record("exchange.partner.delete", request=request, obj=obj, detail={"name": obj.name})
        super().delete_model(request, obj)
