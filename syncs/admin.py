from django import forms
from django.contrib import admin, messages
from import_export.admin import ImportExportModelAdmin
from import_export.forms import SelectableFieldsExportForm

from brands.admin import ReadOnlyAdmin
from brands.audit import audit
from syncs.flows import flow_choices, flow_label
from syncs.mappings import (
    AttributeChange,
    MappingError,
    SaveResult,
    StatusChange,
    attribute_changes_validate,
    attribute_mapping_save,
    change_from_instance,
    mapping_save,
    status_changes_validate,
    statuses_or_none,
    tags_or_none,
    value_map_save,
)
from syncs.models import (
    AttributeMapping,
    ChangeVia,
    Checkpoint,
    DefaultStatusMapping,
    FlowConfig,
    MappingChange,
    MappingKind,
    RecordState,
    StatusMapping,
    SyncRun,
    ValueMap,
    WebhookEvent,
)
from syncs.resources import IMPORT_FORMATS, AttributeMappingResource, StatusMappingResource
from syncs.services import flow_configure, flow_enqueue
from syncs.valuemaps.changes import (
    ValueChange,
    known_values,
    value_change_cleaned,
    value_problems,
)
from syncs.valuemaps.registry import get_kind, kind_choices
from syncs.valuemaps.resources import ValueMapResource


def flow_config_lookback_set(*, config: FlowConfig, lookback_minutes: int, actor=None) -> bool:
    """Change how far before its cursor a flow re-reads, with an audit line old → new.

    Here, not in flow_configure, which knows only the switch and the schedule. A shorter
    look-back can miss records Brightpearl stamps late, so every change leaves a trace.
    Returns whether anything changed."""
    before = config.lookback_minutes
    if before == lookback_minutes:
        return False
    config.lookback_minutes = lookback_minutes
    config.save(update_fields=["lookback_minutes", "updated"])
    audit(
        "flow.lookback_changed",
        brand=config.brand_id,
        actor=actor,
        target=config,
        summary=f"Look-back {before} → {lookback_minutes} min",
        before=before,
        after=lookback_minutes,
    )
    return True


class FlowConfigForm(forms.ModelForm):
    # A flow is one of the registry's, by its label: a typo would be a config no run reads.
    flow = forms.ChoiceField(choices=(), help_text="Which flow this brand runs.")

    class Meta:
        model = FlowConfig
        fields = ["brand", "flow", "enabled", "schedule_minutes", "lookback_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "flow" in self.fields:
            self.fields["flow"].choices = flow_choices()


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
    form = FlowConfigForm
    fields = ["brand", "flow", "enabled", "schedule_minutes", "lookback_minutes", "cursor"]
    actions = ["run_now", "run_full"]

    @admin.display(description="flow")
    def flow_name(self, obj):
        return flow_label(obj.flow)

    def get_readonly_fields(self, request, obj=None):
        # The cursor is the engine's bookmark: moving it by hand silently skips (or re-reads)
        # records. A saved config is one brand's one flow; another is added, not renamed.
        return ["brand", "flow", "cursor"] if obj else ["cursor"]

    def save_model(self, request, obj, form, change):
        # Not super().save_model: the switch and the schedule go through flow_configure, which
        # compares the row as it was with what is asked, so it can audit and reschedule.
        # Saving the model first would leave it nothing to compare.
        config = flow_configure(
            brand=obj.brand,
            flow=obj.flow,
            enabled=obj.enabled,
            schedule_minutes=obj.schedule_minutes,
            actor=request.user,
        )
        flow_config_lookback_set(
            config=config, lookback_minutes=obj.lookback_minutes, actor=request.user
        )
        obj.pk = config.pk

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
    list_display = ["received_at", "brand", "vendor", "event", "state", "processed_at"]
    list_filter = [
        ("brand", admin.RelatedOnlyFieldListFilter),
        ("connection__system", admin.AllValuesFieldListFilter),
        "state",
        "event",
    ]
    list_select_related = ["brand", "connection"]

    @admin.display(description="vendor", ordering="connection__system")
    def vendor(self, obj: WebhookEvent) -> str:
        return obj.connection.get_system_display()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- mappings: edited through the same services as the Mappings page -----------------------
class StatusMappingForm(forms.ModelForm):
    class Meta:
        model = StatusMapping
        fields = ["brand", "bp_status_id", "bp_status_name", "ometria_status", "lifecycle_stage"]

    def clean(self):
        cleaned = super().clean()
        brand = cleaned.get("brand") or self.instance.brand
        if brand is None or cleaned.get("bp_status_id") is None or self.errors:
            return cleaned
        change = StatusChange(
            bp_status_id=cleaned["bp_status_id"],
            bp_status_name=cleaned.get("bp_status_name", ""),
            ometria_status=cleaned.get("ometria_status", ""),
            lifecycle_stage=cleaned.get("lifecycle_stage", ""),
        )
        try:
            status_changes_validate(
                changes=[change],
                statuses=statuses_or_none(brand),
                mapped=StatusMapping.objects.filter(brand=brand).values_list(
                    "bp_status_id", flat=True
                ),
            )
        except MappingError as exc:
            raise forms.ValidationError(
                [m for messages_ in exc.errors.values() for m in messages_]
            ) from None
        return cleaned


class MappingExportForm(SelectableFieldsExportForm):
    """Each column to export by its header in the file ("Brightpearl status id")."""

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return field.column_name if field else super()._get_field_label(resource, field_name)

    @property
    def media(self) -> forms.Media:  # "Select all" without an inline handler (the CSP)
        return super().media + forms.Media(js=["console/admin_export.js"])


class MappingAdmin(ImportExportModelAdmin):
    """What the two mapping admins share: edits and deletes go through the mapping services
    (validated, in the history, audited, followed up), never straight to the table."""

    formats = IMPORT_FORMATS
    # Each problem as a line of text naming the row and the column, not a tooltip.
    import_template_name = "admin/syncs/mapping_import.html"
    export_form_class = MappingExportForm
    # A problem's message only: never the row as Python sees it, nor a traceback (the
    # template shows neither in any case).
    import_error_display = ("message",)

    def save_changes(self, *, brand, changes, actor, check: bool) -> SaveResult:
        raise NotImplementedError

    def add_data_read_fail_error_to_form(self, form, e):
        # The package names the Python exception ("'UnicodeDecodeError' encountered…").
        form.add_error(
            "import_file",
            "This file could not be read in the format chosen. Choose csv for a comma-separated "
            "text file or xlsx for an Excel workbook, and upload it again.",
        )

    def save_model(self, request, obj, form, change):
        wanted = change_from_instance(obj)
        result = self.save_changes(
            brand=obj.brand, changes=[wanted], actor=request.user, check=True
        )
        # The admin's own log and redirect need the row's id.
        saved = wanted.saved(obj.brand)
        obj.pk = saved.pk if saved else None
        if result.tickets or result.runs:
            self.message_user(request, result.summary(), messages.SUCCESS)

    def delete_model(self, request, obj):
        self.delete_queryset(request, type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        by_brand: dict = {}
        for m in queryset.select_related("brand"):
            by_brand.setdefault(m.brand, []).append(change_from_instance(m, remove=True))
        for brand, changes in by_brand.items():
            self.save_changes(brand=brand, changes=changes, actor=request.user, check=False)


@admin.register(StatusMapping)
class StatusMappingAdmin(MappingAdmin):
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
    form = StatusMappingForm
    resource_classes = [StatusMappingResource]

    def get_readonly_fields(self, request, obj=None):
        # Another status or brand is another mapping: add that one instead.
        return ["brand", "bp_status_id"] if obj else []

    def save_changes(self, *, brand, changes, actor, check: bool) -> SaveResult:
        # The form checked the status against Brightpearl's list already; a removal needs
        # no check at all.
        return mapping_save(
            brand=brand,
            changes=changes,
            actor=actor,
            via=ChangeVia.ADMIN,
            statuses=statuses_or_none(brand) if check else None,
        )


class AttributeMappingForm(forms.ModelForm):
    class Meta:
        model = AttributeMapping
        fields = ["brand", "source", "source_name", "ometria_attribute", "value", "absent_value"]

    def clean(self):
        cleaned = super().clean()
        brand = cleaned.get("brand") or self.instance.brand
        if brand is None or self.errors:
            return cleaned
        change = AttributeChange(
            source=cleaned.get("source") or self.instance.source,
            source_name=cleaned.get("source_name") or self.instance.source_name,
            ometria_attribute=cleaned.get("ometria_attribute", ""),
            value=cleaned.get("value", ""),
            absent_value=cleaned.get("absent_value", ""),
        )
        try:
            attribute_changes_validate(changes=[change], tags=tags_or_none(brand))
        except MappingError as exc:
            raise forms.ValidationError(
                [m for messages_ in exc.errors.values() for m in messages_]
            ) from None
        return cleaned


@admin.register(AttributeMapping)
class AttributeMappingAdmin(MappingAdmin):
    list_display = ["brand", "source", "source_name", "ometria_attribute", "value", "absent_value"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), "source"]
    search_fields = ["source_name", "ometria_attribute"]
    form = AttributeMappingForm
    resource_classes = [AttributeMappingResource]

    def get_readonly_fields(self, request, obj=None):
        return ["brand", "source", "source_name"] if obj else []

    def save_changes(self, *, brand, changes, actor, check: bool) -> SaveResult:
        # The form checked the tag against Brightpearl's list already.
        return attribute_mapping_save(
            brand=brand, changes=changes, actor=actor, via=ChangeVia.ADMIN, tags=None
        )


class ValueMapForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=(), help_text="Which kind of value map.")

    class Meta:
        model = ValueMap
        fields = ["brand", "kind", "source_value", "source_label", "target_value", "extra", "note"]
        help_texts = {
            "extra": "The further parts some kinds need, by name: a payment method's "
            '{"nominal_code": "1220"}; a Mailchimp mapping\'s {"as": "tag"} or '
            '{"as": "merge_field"}. Leave {} for the other kinds.'
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].choices = kind_choices()

    def clean(self):
        cleaned = super().clean()
        brand = cleaned.get("brand") or getattr(self.instance, "brand", None)
        kind = cleaned.get("kind") or self.instance.kind
        if brand is None or not kind or self.errors:
            return cleaned
        change = ValueChange(
            kind=kind,
            source_value=cleaned.get("source_value") or self.instance.source_value,
            source_label=cleaned.get("source_label", ""),
            target_value=cleaned.get("target_value", ""),
            extra={str(k): str(v) for k, v in (cleaned.get("extra") or {}).items()},
            note=cleaned.get("note", ""),
        )
        field_of = {"source": "source_value", "target": "target_value", "note": "note"}
        for part, problems in value_problems(
            value_change_cleaned(change), known_values(brand=brand, kind=get_kind(kind))
        ).items():
            name = field_of.get(part, "extra")
            if name in self.fields:
                self.add_error(name, problems)
            else:
                self.add_error(None, problems)
        return cleaned


class KindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return kind_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ValueMap)
class ValueMapAdmin(MappingAdmin):
    list_display = [
        "brand",
        "kind_name",
        "source_value",
        "source_label",
        "target_value",
        "extra",
        "note",
        "updated",
    ]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), KindFilter]
    search_fields = ["source_value", "source_label", "target_value", "note"]
    form = ValueMapForm
    resource_classes = [ValueMapResource]

    @admin.display(description="kind")
    def kind_name(self, obj):
        return dict(kind_choices()).get(obj.kind, obj.kind)

    def get_readonly_fields(self, request, obj=None):
        # Another value, kind or brand is another map: add that one instead.
        return ["brand", "kind", "source_value"] if obj else []

    def save_changes(self, *, brand, changes, actor, check: bool) -> SaveResult:
        # The form checked the values against the vendors' lists already.
        return value_map_save(
            brand=brand, changes=changes, actor=actor, via=ChangeVia.ADMIN, check_lists=False
        )


class HistoryKindFilter(KindFilter):
    """Order statuses, contact attributes, and each kind of value map, by name."""

    def lookups(self, request, model_admin):
        return [*MappingKind.choices, *kind_choices()]


@admin.register(MappingChange)
class MappingChangeAdmin(admin.ModelAdmin):
    list_display = ["created", "brand", "kind_name", "label", "before", "after", "actor", "via"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter), HistoryKindFilter, "via"]
    search_fields = ["label", "key", "note"]
    date_hierarchy = "created"

    @admin.display(description="kind", ordering="kind")
    def kind_name(self, obj):
        return obj.kind_label

    # The history is written by the mapping services only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DefaultStatusMapping)
class DefaultStatusMappingAdmin(admin.ModelAdmin):
    list_display = ["bp_status_name", "ometria_status", "lifecycle_stage"]
    search_fields = ["bp_status_name"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    """What the console remembers per brand between runs (which vendor errors it has read)."""

    list_display = ["brand", "name", "updated"]
    list_filter = [("brand", admin.RelatedOnlyFieldListFilter)]
