from django.contrib import admin, messages

from syncs.flows import flow_label
from syncs.models import (
    AttributeMapping,
    DefaultStatusMapping,
    FlowConfig,
    RecordState,
    StatusMapping,
    SyncRun,
    WebhookEvent,
)
from syncs.services import flow_configure, flow_enqueue


@admin.register(FlowConfig)
class FlowConfigAdmin(admin.ModelAdmin):
    list_display = [
        "brand",
        "flow_name",
        "enabled",
        "schedule_minutes",
        "cursor",
        "lookback_minutes",
    ]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "flow", "enabled"]
    fields = ["brand", "flow", "enabled", "schedule_minutes", "lookback_minutes", "cursor"]
    actions = ["run_now", "run_full"]

    @admin.display(description="flow")
    def flow_name(self, obj):
        return flow_label(obj.flow)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The schedule and the audit trail follow the switch, whoever flips it.
        flow_configure(
            brand=obj.brand,
            flow=obj.flow,
            enabled=obj.enabled,
            schedule_minutes=obj.schedule_minutes,
            actor=request.user,
        )

    def _enqueue(self, request, queryset, full: bool):
        for config in queryset:
            run = flow_enqueue(
                brand_id=config.brand_id, flow=config.flow, trigger="manual", full=full
            )
            self.message_user(
                request,
                f"{config}: {'full' if full else 'incremental'} run {run.pk} queued. "
                "Its progress shows under Sync runs.",
                messages.SUCCESS,
            )

    @admin.action(description="Run now (changes since the last run)")
    def run_now(self, request, queryset):
        self._enqueue(request, queryset, full=False)

    @admin.action(description="Run now, reading every record (full)")
    def run_full(self, request, queryset):
        self._enqueue(request, queryset, full=True)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "brand",
        "flow",
        "trigger",
        "state",
        "queued_at",
        "read",
        "written",
        "unchanged",
        "waiting",
        "failed",
        "api_calls",
        "throttle_waits",
    ]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "flow", "trigger", "state"]
    date_hierarchy = "queued_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RecordState)
class RecordStateAdmin(admin.ModelAdmin):
    list_display = ["brand", "flow", "source_id", "status", "target_id", "detail", "synced_at"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "flow", "status"]
    search_fields = ["source_id", "target_id", "match_key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "brand", "event", "state", "processed_at"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "state", "event"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StatusMapping)
class StatusMappingAdmin(admin.ModelAdmin):
    list_display = [
        "brand",
        "bp_status_name",
        "bp_status_id",
        "ometria_status",
        "lifecycle_stage",
        "updated",
    ]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "ometria_status", "lifecycle_stage"]
    search_fields = ["bp_status_name"]


@admin.register(AttributeMapping)
class AttributeMappingAdmin(admin.ModelAdmin):
    list_display = ["brand", "source", "source_name", "ometria_attribute", "value", "absent_value"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "source"]
    search_fields = ["source_name", "ometria_attribute"]


@admin.register(DefaultStatusMapping)
class DefaultStatusMappingAdmin(admin.ModelAdmin):
    list_display = ["bp_status_name", "ometria_status", "lifecycle_stage"]
    search_fields = ["bp_status_name"]
